/**
 * Draws the waveform of an audio file on a canvas: the peak of each pixel column, decoded
 * by the browser's own decoder, so any format the browser plays works.
 */
export async function drawWaveform(canvas: HTMLCanvasElement, bytes: ArrayBuffer): Promise<void> {
  const audio = await new OfflineAudioContext(1, 1, 44_100).decodeAudioData(bytes.slice(0));
  const samples = audio.getChannelData(0);
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.floor(canvas.clientWidth * ratio));
  const height = Math.max(1, Math.floor(canvas.clientHeight * ratio));
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle =
    getComputedStyle(document.documentElement).getPropertyValue('--accent') || '#3b5bdb';
  const perColumn = Math.max(1, Math.floor(samples.length / width));
  const middle = height / 2;
  for (let x = 0; x < width; x++) {
    let peak = 0;
    const start = x * perColumn;
    for (let i = start; i < start + perColumn && i < samples.length; i++) {
      peak = Math.max(peak, Math.abs(samples[i] ?? 0));
    }
    const bar = Math.max(1, peak * middle);
    ctx.fillRect(x, middle - bar, 1, bar * 2);
  }
  canvas.dataset.drawn = 'true';
}
