#!/usr/bin/env node
/** The `linked-accounts` executable: see `command-line.ts`. */
import { main } from "./command-line.js";

process.exitCode = await main(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
