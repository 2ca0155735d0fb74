// Option types derived from option schemas (json-schema-to-ts), so that a plugin's TypeScript type of its options is
// the schema the loader validates with, and cannot drift from it. Types only: nothing here runs.
import type { ExtendedJSONSchema, FromExtendedSchema } from 'json-schema-to-ts';
import type { ValueCheck } from './config/schema.js';

/** Visor's schema keywords (see JsonSchema), for the typed schema. */
type VisorKeywords = {
  duration: boolean;
  size: boolean;
  secret: boolean;
  expression: boolean;
  check: ValueCheck;
  file: boolean;
  component: string;
};

/** A JSON schema object with Visor's keywords, typed. Declare a schema `as const` (and, for a fragment, `satisfies
 * OptionSchema`) so that its literal types (`type: 'string'`, `enum: [...]`, `required: [...]`) give OptionsOf. */
export type OptionSchema = Exclude<ExtendedJSONSchema<VisorKeywords>, boolean>;

/** What validation turns the values into: `duration` and `size` values become numbers (ms, bytes). */
type Conversions = [{ pattern: { duration: true }; output: number }, { pattern: { size: true }; output: number }];

/** The loader closes a plugin's options (closedOptionsSchema): no other keys, unless the schema says otherwise. */
type Closed<S extends OptionSchema> = S extends { additionalProperties: unknown } ? S : S & { readonly additionalProperties: false };

/** The options `create` receives for schema `S`, as the loader validated them: options with a `default` are always
 * present (Ajv applies defaults), durations and sizes are numbers, unknown keys are absent. */
export type OptionsOf<S extends OptionSchema> = FromExtendedSchema<VisorKeywords, Closed<S>, { deserialize: Conversions }>;
