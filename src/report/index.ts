/** The run report (placeholder until src/report is built: the signature is the contract). */

/**
 * Writes `<runDir>/report.html` from the artifacts the run folder holds (results.csv, metrics.json, predictions.json,
 * …) and returns its path.
 */
export async function writeRunReport(runDir: string): Promise<string> {
  throw new Error(`report.html is not implemented yet (${runDir})`);
}
