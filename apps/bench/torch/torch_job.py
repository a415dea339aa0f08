#!/usr/bin/env python3
"""The PyTorch side of `npm run bench`: one workload at one thread count per process.

    /usr/bin/python3 torch_job.py '{"workload": "mlp", "threads": 2, "seconds": 1, "windows": 3}'
    /usr/bin/python3 torch_job.py --probe      # prints torch's version, or exits 1 without torch

The workloads and timing rules are those of apps/bench/README.md (the anchors' definitions,
plus ResNet-18 training and MobileNetV2 inference); results are JSON lines on stdout in the
bench's format (anchor `torch-openblas`). BLAS: Debian's torch links libblas.so.3; the process
re-executes itself once with the OpenMP build of OpenBLAS first on LD_LIBRARY_PATH (it shares
torch's OpenMP pool; the pthread build fights it on 2 cores) and OPENBLAS_CORETYPE=SkylakeX
(OpenBLAS 0.3.21 does not recognise this CPU and would use SSE3 kernels).
"""
import json
import os
import statistics
import sys
import time

OPENBLAS_OPENMP = '/usr/lib/x86_64-linux-gnu/openblas-openmp'


def spec_from_argv():
    if len(sys.argv) != 2:
        sys.exit('torch_job.py: expected one JSON argument {"workload": ..., "threads": ...} or --probe')
    if sys.argv[1] == '--probe':
        return None
    spec = json.loads(sys.argv[1])
    spec.setdefault('threads', 1)
    spec.setdefault('seconds', 1.0)
    spec.setdefault('windows', 3)
    spec.setdefault('warmup', 2.0)
    spec.setdefault('sizes', [256, 512, 1024])
    spec.setdefault('rssSteps', 10_000)
    return spec


SPEC = spec_from_argv()

if SPEC is not None and os.environ.get('KILN_BENCH_TORCH_ENV') != '1':
    # Thread counts and the BLAS must be in the environment before libtorch and libblas load.
    env = dict(os.environ, KILN_BENCH_TORCH_ENV='1')
    n = str(SPEC['threads'])
    env.update(OMP_NUM_THREADS=n, OPENBLAS_NUM_THREADS=n, MKL_NUM_THREADS=n)
    if os.path.isdir(OPENBLAS_OPENMP):
        env['LD_LIBRARY_PATH'] = ':'.join(p for p in (OPENBLAS_OPENMP, env.get('LD_LIBRARY_PATH')) if p)
        env.setdefault('OPENBLAS_CORETYPE', 'SkylakeX')
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:
    sys.stderr.write(f'torch_job.py: PyTorch is not importable: {e}\n')
    sys.exit(1)

if SPEC is None:
    print(torch.__version__)
    sys.exit(0)

torch.set_num_threads(SPEC['threads'])
torch.manual_seed(0)


def loaded_blas():
    try:
        with open('/proc/self/maps') as maps:
            return sorted({line.split()[-1] for line in maps if 'blas' in line and '.so' in line})
    except OSError:
        return []


def out(**fields):
    record = {'anchor': 'torch-openblas', 'threads': SPEC['threads'], **fields, 'torch': torch.__version__}
    print(json.dumps(record), flush=True)


# ---------------------------------------------------------------- timing (same rules as src/common.ts)
def time_calls(fn, warmup, min_reps, min_seconds, max_reps=10_000):
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    while not (len(times) >= min_reps and (time.perf_counter() - start >= min_seconds or len(times) >= max_reps)):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


class CpuCount:
    """Counts calls of a function and the process CPU time (all threads) used meanwhile."""

    def __init__(self, fn):
        self.fn, self.calls, self.start = fn, 0, time.process_time()

    def __call__(self):
        self.fn()
        self.calls += 1

    def figure(self, metric, items_per_call):
        """Per-call CPU ms for latencies, else items per CPU second (the bench's cpu_value)."""
        cpu = time.process_time() - self.start
        if cpu <= 0 or self.calls == 0:
            return None
        return cpu * 1e3 / self.calls if metric == 'ms' else items_per_call * self.calls / cpu


def train_rates(step, items):
    began, n = time.perf_counter(), 0
    while n < 2 or time.perf_counter() - began < SPEC['warmup']:
        step()
        n += 1
    rates = []
    for _ in range(SPEC['windows']):
        t0, steps = time.perf_counter(), 0
        while True:
            step()
            steps += 1
            elapsed = time.perf_counter() - t0
            if steps >= 2 and elapsed >= SPEC['seconds']:
                break
        rates.append(steps * items / elapsed)
    return rates


# ---------------------------------------------------------------- models
def mlp():
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


class LstmLm(nn.Module):
    """Embedding(64, 64) -> LSTM(64 -> 256), batch first -> Linear(256 -> 64) at every step."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(64, 64)
        self.rnn = nn.LSTM(64, 256, batch_first=True)
        self.head = nn.Linear(256, 64)

    def forward(self, tokens):
        return self.head(self.rnn(self.embed(tokens))[0])


def sinusoidal_positions(max_len, d_model):
    """The course's table, as @kiln/sequence's PositionalEncoding: sin on even, cos on odd dimensions."""
    pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
    freq = torch.pow(10000.0, -(torch.arange(d_model) // 2 * 2).to(torch.float64) / d_model)
    angle = pos * freq
    pe = torch.where(torch.arange(d_model) % 2 == 0, torch.sin(angle), torch.cos(angle))
    return pe.to(torch.float32)


class TransformerTagger(nn.Module):
    """Embedding(64, 128) + sinusoidal positions -> 2 x TransformerEncoderLayer(128, 4 heads, feed-forward
    512, ReLU, post-norm, dropout 0, batch first) -> Linear(128 -> 64) at every position."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(64, 128)
        self.register_buffer('pe', sinusoidal_positions(64, 128))
        layer = nn.TransformerEncoderLayer(128, 4, dim_feedforward=512, dropout=0.0, activation='relu', batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2)
        self.head = nn.Linear(128, 64)

    def forward(self, tokens):
        x = self.embed(tokens) + self.pe[:tokens.shape[1]]
        return self.head(self.encoder(x))


def memory_figures():
    """Peak and current resident set in MB (VmHWM, VmRSS of /proc/self/status; else getrusage's peak)."""
    try:
        with open('/proc/self/status') as f:
            fields = dict(line.split(':', 1) for line in f if ':' in line)
        kb = lambda name: int(fields[name].split()[0])  # noqa: E731
        return kb('VmHWM') * 1024 / 1e6, kb('VmRSS') * 1024 / 1e6, 'VmHWM'
    except (OSError, KeyError, ValueError):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6, None, 'maxRSS'


# ---------------------------------------------------------------- workloads
def sgemm():
    for n in SPEC['sizes']:
        a, b, c = torch.randn(n, n), torch.randn(n, n), torch.empty(n, n)
        times = time_calls(lambda: torch.mm(a, b, out=c), warmup=3, min_reps=5, min_seconds=1.0, max_reps=200)
        med = statistics.median(times)
        out(workload='sgemm', n=n, metric='GFLOPS', value=2 * n ** 3 / med / 1e9, median_ms=med * 1e3,
            reps=len(times), blas=loaded_blas())


def train(workload):
    gen = torch.Generator().manual_seed(1)
    if workload == 'mlp':
        batch, model = 64, mlp()
        x, y = torch.randn(batch, 784, generator=gen), torch.randint(0, 10, (batch,), generator=gen)
        opt, items, metric = torch.optim.SGD(model.parameters(), lr=0.01), batch, 'samples/s'
    elif workload == 'lenet':
        batch, model = 64, lenet5()
        x, y = torch.randn(batch, 1, 28, 28, generator=gen), torch.randint(0, 10, (batch,), generator=gen)
        opt, items, metric = torch.optim.Adam(model.parameters(), lr=1e-3), batch, 'samples/s'
    elif workload in ('lstm', 'transformer'):
        batch, seq, model = 32, 64, LstmLm() if workload == 'lstm' else TransformerTagger()
        x, y = torch.randint(0, 64, (batch, seq), generator=gen), torch.randint(0, 64, (batch * seq,), generator=gen)
        opt, items, metric = torch.optim.Adam(model.parameters(), lr=1e-3), batch * seq, 'tokens/s'
    elif workload == 'resnet18':
        import torchvision
        batch, model = 32, torchvision.models.resnet18(num_classes=10)
        x, y = torch.randn(batch, 3, 32, 32, generator=gen), torch.randint(0, 10, (batch,), generator=gen)
        opt, items, metric = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9), batch, 'samples/s'
    model.train()
    last = {}

    def step():
        opt.zero_grad(set_to_none=True)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y)
        loss.backward()
        opt.step()
        last['loss'] = loss
        if 'initial' not in last:  # the loss before any update, to check both sides train the same model
            last['initial'] = float(loss)

    counted = CpuCount(step)
    rates = train_rates(counted, items)
    out(workload=workload, metric=metric, value=statistics.median(rates), windows=rates,
        params=sum(p.numel() for p in model.parameters()), initial_loss=last['initial'],
        final_loss=float(last['loss']), warmup_s=SPEC['warmup'], cpu_value=counted.figure(metric, items), blas=loaded_blas())


def rss():
    """Peak RSS of SPEC['rssSteps'] MLP training steps (the mlp workload; issue 10)."""
    gen = torch.Generator().manual_seed(1)
    model = mlp()
    x, y = torch.randn(64, 784, generator=gen), torch.randint(0, 10, (64,), generator=gen)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    model.train()
    _, rss_start, _ = memory_figures()
    t0 = time.perf_counter()
    steps = SPEC['rssSteps']
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - t0
    peak, rss_end, source = memory_figures()
    out(workload='rss', metric='MB', value=peak, steps=steps, rss_start_mb=rss_start, rss_end_mb=rss_end, source=source,
        seconds=seconds, samples_per_s=64 * steps / seconds, final_loss=float(loss))


def infer(workload):
    if workload == 'infer':
        model, shape, batches, tag = lenet5(), (1, 28, 28), (1, 256), 'infer'
    else:
        import torchvision
        model, shape, batches, tag = torchvision.models.mobilenet_v2(width_mult=1.0), (3, 224, 224), (1, 32), 'mobilenetv2'
    model.eval()
    for batch in batches:
        x = torch.randn(batch, *shape)
        with torch.inference_mode():
            counted = CpuCount(lambda: model(x))
            if batch == 1:
                times = time_calls(counted, warmup=50 if tag == 'infer' else 5, min_reps=200 if tag == 'infer' else 10, min_seconds=1.0)
                out(workload=f'{tag}-b1', metric='ms', value=statistics.median(times) * 1e3, reps=len(times),
                    cpu_value=counted.figure('ms', 1))
            else:
                times = time_calls(counted, warmup=3 if tag == 'infer' else 1, min_reps=10 if tag == 'infer' else 3, min_seconds=1.0)
                med = statistics.median(times)
                out(workload=f'{tag}-b{batch}', metric='samples/s', value=batch / med, median_ms=med * 1e3, reps=len(times),
                    cpu_value=counted.figure('samples/s', batch))


WORKLOADS = {
    'sgemm': sgemm, 'mlp': lambda: train('mlp'), 'lenet': lambda: train('lenet'), 'lstm': lambda: train('lstm'),
    'transformer': lambda: train('transformer'), 'resnet18': lambda: train('resnet18'), 'rss': rss, 'infer': lambda: infer('infer'), 'mobilenetv2': lambda: infer('mobilenetv2'),
}

if SPEC['workload'] not in WORKLOADS:
    sys.exit(f"torch_job.py: unknown workload {SPEC['workload']!r} (known: {', '.join(WORKLOADS)})")
try:
    WORKLOADS[SPEC['workload']]()
except Exception as e:  # noqa: BLE001 - every failure becomes the job's error line
    out(workload=SPEC['workload'], error=f'{type(e).__name__}: {e}')
    raise
