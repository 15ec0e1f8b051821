#!/usr/bin/env node
import {execute} from '../dist/execute.js'
await execute({dir: import.meta.url})
