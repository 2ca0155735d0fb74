export * from './accumulator.js';
export * from './derive.js';
export * from './render.js';
