/**
 * The provider kit: each mechanism the providers share, once (see README.md here for what each
 * module replaces and what a migration must watch for).
 */
export * from './cidr.js';
export * from './names.js';
export * from './ownership.js';
export * from './ports.js';
export * from './retry.js';
export * from './serializer.js';
export * from './slots.js';
export * from './strings.js';
