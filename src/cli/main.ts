#!/usr/bin/env node
import { runCli } from './program.js';

const argv = process.argv.slice(2);
const code = await runCli(argv.length === 0 ? ['--help'] : argv);
process.exitCode = code;
