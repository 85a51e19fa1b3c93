/** One entry of `GET /v1/models`. */
export interface ModelInfo {
  id: string;
  version: string;
  description: string;
  cost: number;
  input: Record<string, unknown>;
  output: { contentType: string };
  ready: boolean;
}
