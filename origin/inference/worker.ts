import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BroadcastChannel, threadId, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { encodeMp3 } from '../audio/encode-mp3.ts';
import { NotPcmWavError, readPcmWav } from '../audio/pcm-wav.ts';
import type { ModelProcessor, ProcessorContext } from './processor.ts';
import type {
  InferenceResult,
  InferenceTask,
  ProgressMessage,
  WorkerReadyMessage,
  WorkerSetup,
} from './task.ts';

interface LoadedModel {
  processor: ModelProcessor;
  sessions: Record<string, ort.InferenceSession>;
}

const setup = workerData as WorkerSetup;

class AbortError extends Error {
  override name = 'AbortError';
}

function context(
  sessions: Record<string, ort.InferenceSession>,
  abort: Int32Array | undefined,
  onStep: (done: number, total: number) => void,
): ProcessorContext {
  const aborted = () => abort !== undefined && Atomics.load(abort, 0) !== 0;
  return {
    sessions,
    Tensor: ort.Tensor,
    step(done, total) {
      if (aborted()) throw new AbortError('the job was stopped');
      onStep(done, total);
    },
    get aborted() {
      return aborted();
    },
  };
}

async function createSessions(
  dir: string,
  files: Record<string, string>,
): Promise<{ sessions: Record<string, ort.InferenceSession>; device: string }> {
  const wanted = setup.executionProvider;
  let device = wanted;
  const sessions: Record<string, ort.InferenceSession> = {};
  for (const [name, file] of Object.entries(files)) {
    const options = (provider: string): ort.InferenceSession.SessionOptions => ({
      executionProviders: [
        provider === 'cuda' ? { name: 'cuda', deviceId: setup.deviceId } : provider,
      ],
      intraOpNumThreads: setup.intraOpThreads,
      interOpNumThreads: 1,
    });
    try {
      sessions[name] = await ort.InferenceSession.create(join(dir, file), options(device));
    } catch (error) {
      // CUDA asked for but not present on this machine: run on the CPU and say so.
      if (device === 'cpu') throw error;
      device = 'cpu';
      sessions[name] = await ort.InferenceSession.create(join(dir, file), options(device));
    }
  }
  return { sessions, device };
}

/**
 * The model's WAV as `format` asks (MP3 encoded here, off the main thread). Bytes that are not
 * the 16-bit PCM WAV an encoding needs throw, saying so: the job fails `model_error`, and the
 * reason is in the origin's log.
 */
function encoded(bytes: Uint8Array, format: string | undefined): Uint8Array {
  if (format === undefined || format === 'wav') return bytes;
  try {
    return encodeMp3(readPcmWav(bytes));
  } catch (error) {
    const reason = error instanceof NotPcmWavError ? error.message : String(error);
    throw new Error(`the model's output could not be encoded as ${format}: ${reason}`);
  }
}

/** Loads its pool's models (one: a pool is a model's) for this thread and runs their warm-up. */
async function load(): Promise<(task: InferenceTask) => Promise<InferenceResult>> {
  const channel = new BroadcastChannel(setup.readyChannel);
  const models = new Map<string, LoadedModel>();
  let device = 'cpu';
  try {
    for (const model of setup.models) {
      const mod = (await import(pathToFileURL(join(model.dir, model.processor)).href)) as {
        default: ModelProcessor;
      };
      if (typeof mod.default?.run !== 'function') {
        throw new Error(`${model.id}: ${model.processor} does not default-export { run }`);
      }
      const loaded = await createSessions(model.dir, model.sessions);
      if (Object.keys(model.sessions).length > 0) device = loaded.device;
      models.set(model.id, { processor: mod.default, sessions: loaded.sessions });
      await mod.default.run(
        structuredClone(model.warmup),
        context(loaded.sessions, undefined, () => {}),
      );
    }
    const sessions = [...models.values()].reduce((n, m) => n + Object.keys(m.sessions).length, 0);
    channel.postMessage({
      type: 'ready',
      threadId,
      device,
      models: [...models.keys()],
      sessions,
    } satisfies WorkerReadyMessage);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    channel.postMessage({ type: 'failed', threadId, error: message } satisfies WorkerReadyMessage);
    throw error;
  } finally {
    channel.close();
  }

  const progress = new BroadcastChannel(setup.progressChannel);
  (progress as unknown as { unref(): void }).unref();

  return async function runInference(task: InferenceTask): Promise<InferenceResult> {
    const model = models.get(task.modelId);
    if (!model) throw new Error(`model ${task.modelId} is not loaded in this worker`);
    const started = performance.now();
    const ctx = context(model.sessions, task.abort, (done, total) =>
      progress.postMessage({ taskId: task.taskId, done, total } satisfies ProgressMessage),
    );
    try {
      const output = await model.processor.run(task.input, ctx);
      const runMs = performance.now() - started;
      const made: unknown = output?.bytes;
      // A model that answers garbage fails its job (invalid_output) rather than this thread.
      if (!(made instanceof Uint8Array) || made.byteLength === 0) {
        return { bytes: null, runMs, sha256: '' };
      }
      const bytes = encoded(made, task.format);
      return { bytes, runMs, sha256: createHash('sha256').update(bytes).digest('hex') };
    } finally {
      // After every step on the same channel: the pool waits for it, so no step is lost.
      progress.postMessage({ taskId: task.taskId, end: true } satisfies ProgressMessage);
    }
  };
}

export default load();
