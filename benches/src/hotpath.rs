//! What the `hotpath` and `hotpath_fastrace` binaries share: the thread that
//! opens the spans, run chunk by chunk, as the criterion benchmark runs its
//! chunks between flushes.
//!
//! The thread is spawned first, before the stack starts (callgrind names it
//! thread 2; export and collector threads come after it), because the main
//! thread also runs static constructors of linked crates whose instruction
//! counts vary from run to run (`fastant`, under fastrace, calibrates its
//! clock). It stays alive until [`Caller::finish`]: valgrind gives the
//! number of a thread that has exited to the next one spawned.

use std::hint::black_box;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::scenario::{Request, Requests};

/// The calling thread, waiting to be told to run its next chunk.
#[derive(Debug)]
pub struct Caller {
    go: Sender<()>,
    done: Receiver<Duration>,
    thread: JoinHandle<()>,
    traces: u64,
    chunk: u64,
}

impl Caller {
    /// Spawn the thread that will open `traces` request traces with
    /// `trace`, at most `chunk` each time it is told to go.
    pub fn spawn<F>(traces: u64, chunk: u64, trace: F) -> std::io::Result<Caller>
    where
        F: Fn(&Request) + Send + 'static,
    {
        let (go, go_rx) = channel::<()>();
        let (done_tx, done) = channel::<Duration>();
        let chunk = chunk.max(1);
        let thread = std::thread::Builder::new()
            .name("hotpath-caller".into())
            .spawn(move || {
                let mut reqs = Requests::default();
                let mut left = traces;
                while go_rx.recv().is_ok() {
                    let n = left.min(chunk);
                    let start = std::time::Instant::now();
                    run(&trace, &mut reqs, n);
                    left -= n;
                    if done_tx.send(start.elapsed()).is_err() {
                        return;
                    }
                }
            })?;
        Ok(Caller {
            go,
            done,
            thread,
            traces,
            chunk,
        })
    }

    /// Run every chunk, calling `between` on this thread after each; the
    /// calling thread's wall time, `between` excluded.
    pub fn run(&self, mut between: impl FnMut()) -> Duration {
        let mut elapsed = Duration::ZERO;
        let mut left = self.traces;
        while left > 0 {
            if self.go.send(()).is_err() {
                break;
            }
            match self.done.recv() {
                Ok(took) => elapsed += took,
                Err(_) => break,
            }
            left -= left.min(self.chunk);
            between();
        }
        elapsed
    }

    /// Let the thread end, and wait for it; `false` if it panicked.
    pub fn finish(self) -> bool {
        drop(self.go);
        self.thread.join().is_ok()
    }
}

#[inline(never)]
fn run<F: Fn(&Request)>(trace: &F, reqs: &mut Requests, traces: u64) {
    for _ in 0..traces {
        trace(black_box(reqs.next()));
    }
}
