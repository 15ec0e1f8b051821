/** One value to mask, and the variable named in its marker. */
export interface RedactPattern {
  name: string
  value: Buffer
}

/** One occurrence of a value: `[start, end)` (buffer or stream offsets) and the variable it belongs to. */
export interface Match {
  start: number
  end: number
  name: string
}
