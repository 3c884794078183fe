// `node --import tsx --import <this file> …`: registers the hook that refuses @azure/* imports
// (registered after tsx, so it runs first).
import { register } from 'node:module';

register('./forbid-azure-sdk-hooks.mjs', import.meta.url);
