// `node --import ./test/helpers/trace-loads.mjs …`: append the URL of every module the process loads to the file
// named by DSGUARD_TRACE_LOADS (one a line). Used to check what a command's start-up imports.
import { register } from 'node:module';

register('./trace-loads-hooks.mjs', import.meta.url);
