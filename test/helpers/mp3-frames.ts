/** The MP3 frame walker the origin checks uploads with, for tests that read an MP3. */
export { type Mp3Summary, mp3Frames } from '../../origin/audio/mp3-frames.ts';
