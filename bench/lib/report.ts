/** One target of the issue, checked by a section of the bench. */
export interface Target {
  /** e.g. "1. cold start: callback" */
  figure: string;
  measured: string;
  target: string;
  met: boolean;
  /** for a miss: what costs, measured, and what would fix it */
  miss?: string;
}

/** What each part of the bench hands to bench/run.ts for RESULTS.md. */
export interface Section {
  title: string;
  /** markdown under the section's heading: method, then tables */
  markdown: string;
  targets: Target[];
  /** measured numbers the closing note quotes (bench/run.ts) */
  data?: Record<string, number>;
  /** measured facts that are words (package lists...) the closing note quotes */
  facts?: Record<string, string>;
}
