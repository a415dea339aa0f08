#!/usr/bin/env node
/** The `kiln` executable: runs the command line and exits with its code (see `kiln --help`). */
import { main } from './cli.js';

process.exitCode = await main(process.argv.slice(2));
