// Download progress: one cli-progress bar per file on stderr (or a given stream), plus an optional
// callback for applications that draw their own.
import cliProgress from "cli-progress";

/** A progress update for one file being downloaded. */
export interface DownloadProgress {
  repo: string;
  file: string;
  /** Bytes of the file on disk so far (a resumed download starts above 0). */
  downloaded: number;
  total: number;
}

/** Tracks one file's download. */
export interface FileProgress {
  update(downloaded: number): void;
  done(): void;
}

function formatBytes(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  for (; n >= 1000 && i < units.length - 1; i++) n /= 1000;
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** Progress of the downloads of one resolveModel call; the bars appear with the first download. */
export class ProgressReporter {
  #bars: cliProgress.MultiBar | undefined;

  constructor(
    private readonly repo: string,
    private readonly stream: NodeJS.WritableStream | undefined,
    private readonly onProgress?: (p: DownloadProgress) => void,
  ) {}

  start(file: string, total: number, resumedFrom: number): FileProgress {
    const started = Date.now();
    const payload = (downloaded: number) => {
      const seconds = (Date.now() - started) / 1000;
      const speed = seconds > 0.2 ? `${formatBytes((downloaded - resumedFrom) / seconds)}/s` : "";
      return { file, done: formatBytes(downloaded), size: formatBytes(total), speed };
    };
    const bar = this.#multiBar()?.create(Math.max(total, 1), resumedFrom, payload(resumedFrom));
    const report = (downloaded: number) => this.onProgress?.({ repo: this.repo, file, downloaded, total });
    report(resumedFrom);
    return {
      update: (downloaded) => {
        bar?.update(Math.min(downloaded, Math.max(total, 1)), payload(downloaded));
        report(downloaded);
      },
      done: () => {
        bar?.update(Math.max(total, 1), payload(total));
        bar?.stop();
      },
    };
  }

  /** Draws the final state of every bar and stops redrawing. */
  stop(): void {
    this.#bars?.stop();
    this.#bars = undefined;
  }

  #multiBar(): cliProgress.MultiBar | undefined {
    if (!this.stream) return undefined;
    if (!this.#bars) {
      const tty = (this.stream as { isTTY?: boolean }).isTTY === true;
      this.#bars = new cliProgress.MultiBar(
        {
          stream: this.stream,
          format: `${this.repo}: {file} |{bar}| {percentage}% {done}/{size} {speed}`,
          barsize: 30,
          hideCursor: tty,
          clearOnComplete: false,
          // Logs and pipes get a plain line every few seconds instead of redraws.
          noTTYOutput: true,
          notTTYSchedule: 5_000,
          gracefulExit: false,
        },
        cliProgress.Presets.shades_classic,
      );
    }
    return this.#bars;
  }
}
