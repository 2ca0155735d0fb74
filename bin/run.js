#!/usr/bin/env node
// The CLI entry. Commands are compiled to dist/bin/commands and loaded only when invoked.
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
