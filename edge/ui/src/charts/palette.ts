/**
 * The charts' colours, one per meaning, readable on the light and the dark theme alike; the
 * legends and tables name every series, so colour is never the only cue.
 */
export const palette = {
  succeeded: '#2f9e44',
  failed: '#e03131',
  canceled: '#f59f00',
  open: '#868e96',
  successRate: '#2f9e44',
  sigma: '#4c6ef5',
  p50: '#4c6ef5',
  p95: '#ae3ec9',
  p99: '#f76707',
  purchased: '#2f9e44',
  spent: '#4c6ef5',
  refunded: '#f59f00',
} as const;
