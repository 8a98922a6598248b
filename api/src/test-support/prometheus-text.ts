/**
 * The sum of the samples of `name` in a Prometheus text exposition whose label sets
 * contain every one of `labels` (written as they appear, e.g. `method="POST"`).
 */
export function prometheusSampleSum(text: string, name: string, ...labels: string[]): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && labels.every((label) => line.includes(label)))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}
