// `node --import tsx --import <this file> …`: registers the hook that refuses every cloud SDK import
// (registered after tsx, so it runs first). Lets a test prove that a command loads no SDK.
import { register } from 'node:module';

register('./forbid-sdks-hooks.mjs', import.meta.url);
