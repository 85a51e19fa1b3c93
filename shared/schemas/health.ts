export const healthStatuses = ['healthy', 'degraded', 'starting'] as const;
export type HealthStatus = (typeof healthStatuses)[number];

/** Answer of `GET /v1/health`; 503 while `starting`. */
export interface Health {
  status: HealthStatus;
  modelsLoaded: boolean;
  device: string;
  queueLength: number;
  activeJobs: number;
  version: string;
}
