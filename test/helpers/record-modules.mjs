// `node --import <this file> …`: registers the hook that lists every loaded module on stderr.
import { register } from 'node:module';

register('./record-modules-hooks.mjs', import.meta.url);
