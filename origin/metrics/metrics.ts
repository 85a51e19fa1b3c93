/** What the origin reports to its metrics; `noopMetrics` for tests and tools. */
export interface Metrics {
  request(labels: { method: string; route: string; status: number }, seconds: number): void;
  jobCreated(model: string): void;
  jobFinished(model: string, status: string): void;
  queueWait(model: string, seconds: number): void;
  inference(model: string, seconds: number): void;
  slowConsumerDropped(): void;
  webhookAttempt(result: string): void;
}

export const noopMetrics: Metrics = {
  request() {},
  jobCreated() {},
  jobFinished() {},
  queueWait() {},
  inference() {},
  slowConsumerDropped() {},
  webhookAttempt() {},
};
