// Contract shared by bench/run.ts and the suite modules it loads.

export interface SuiteOptions {
  /** Shrink record counts and iterations for a fast smoke run. */
  quick: boolean;
}

export interface Suite {
  run(options: SuiteOptions): Promise<void>;
}
