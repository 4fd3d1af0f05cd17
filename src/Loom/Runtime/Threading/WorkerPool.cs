namespace Loom.Runtime.Threading;

/// <summary>One piece of a job that a <see cref="WorkerPool"/> splits across threads.</summary>
public interface IParallelJob
{
    /// <summary>Runs part <paramref name="part"/> of the job; parts are independent of each other.</summary>
    void Execute(int part);
}

/// <summary>
/// A fixed set of worker threads (one per core, the calling thread included) that run the parts of one
/// job at a time. Kernels pass their job as a struct, so splitting work allocates nothing on the hot
/// path: no <c>Task</c>, no delegate, no closure. Workers spin briefly between jobs (kernels follow
/// each other within microseconds) and then sleep. A job submitted while the pool is busy — a nested
/// parallel loop, or another thread's run — executes on the submitting thread, so the pool never deadlocks.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    public const int MaxParts = (1 << 20) - 1;
    /// <summary>
    /// Polls (SpinWait(20), about 1.3 µs each) a worker makes for the next job before it sleeps: 200 µs, longer than the gap between
    /// one kernel's job and the next. It spun 5 ms before; on two cores shared with another process that held a core the caller,
    /// preempted between jobs, could have had (SqueezeNet beside a busy loop: two threads 0.71–0.78 of ONNX Runtime's time instead of
    /// 1.00–1.42; docs/performance.md, sqz4).
    /// </summary>
    private const int SpinIterations = 150;

    private readonly Thread[] _workers;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Dictionary<Type, Runner> _runners = new();
    private Runner? _current;
    // One word says which job is on and which parts are left: (id << 40) | (front << 20) | back, parts [front, back)
    // unclaimed. The caller claims from the front, workers from the back, so with two threads each computes one
    // contiguous half of the parts, and consecutive kernels split alike give a thread the columns it wrote itself
    // (in cache) instead of interleaved blocks written by the other core; dynamic claiming still balances the load.
    // A worker that wakes late can only claim parts of the job whose id it read, so it never runs a stale job.
    private long _claim;
    private long _lastId;
    private int _unfinished;
    private int _busy;
    private int _sleeping;
    private volatile bool _disposed;
    private Exception? _failure;
    // Diagnostics only (LOOM_POOL_STATS=1; a static readonly flag, so the JIT drops the timing when it is off).
    private static readonly bool s_stats = Environment.GetEnvironmentVariable("LOOM_POOL_STATS") == "1";
    private long _workerFirstStart, _workerLastEnd;
    private readonly WorkerPoolStats _statsTotal = new();

    /// <summary>Where jobs' wall time went (collected only with the environment variable LOOM_POOL_STATS=1).</summary>
    public WorkerPoolStats Stats => _statsTotal;

    /// <param name="threads">Total threads including the caller; 1 means everything runs on the caller.</param>
    public WorkerPool(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), "a pool needs at least one thread");
        _workers = new Thread[threads - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"loom-worker-{i + 1}" };
            _workers[i].Start();
        }
    }

    /// <summary>Threads that run parts, the caller included.</summary>
    public int Threads => _workers.Length + 1;

    /// <summary>A pool of the calling thread alone: kernels given it run single-threaded.</summary>
    public static WorkerPool CallerOnly { get; } = new(1);

    /// <summary><see cref="CallerOnly"/> as a run's pool is given (already made: nothing to defer).</summary>
    internal static Lazy<WorkerPool> LazyCallerOnly { get; } = new(CallerOnly);

    /// <summary>Runs parts 0..<paramref name="parts"/>-1 of <paramref name="job"/> and returns when all are done.</summary>
    public void Run<TJob>(int parts, TJob job) where TJob : struct, IParallelJob
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (parts <= 0) return;
        if (parts > MaxParts) throw new ArgumentOutOfRangeException(nameof(parts), $"at most {MaxParts} parts");
        if (parts == 1 || _workers.Length == 0 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            for (int p = 0; p < parts; p++) job.Execute(p);
            return;
        }
        RunClaimed(parts, job);
    }

    /// <summary>
    /// Runs parts 0..<paramref name="parts"/>-1 of <paramref name="job"/> on <paramref name="pool"/>, or in order on the calling
    /// thread when there is no pool or one part (the kernels' common entry: no pool means single-threaded).
    /// </summary>
    public static void Split<TJob>(WorkerPool? pool, int parts, TJob job) where TJob : struct, IParallelJob
    {
        if (pool is null || parts == 1)
            for (int i = 0; i < parts; i++) job.Execute(i);
        else pool.Run(parts, job);
    }

    /// <summary>
    /// Runs parts 0..<paramref name="parts"/>-1 all at the same time, each on its own thread, so a part may
    /// wait for another; returns false, running nothing, when that cannot be promised (the pool is busy or
    /// has fewer threads than parts). Every part gets a thread: a thread takes a new part only after
    /// finishing one, so while a part is unclaimed some thread is free to claim it.
    /// </summary>
    public bool TryRunConcurrently<TJob>(int parts, TJob job) where TJob : struct, IParallelJob
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (parts > Threads) return false;
        if (parts <= 1)
        {
            if (parts == 1) job.Execute(0);
            return true;
        }
        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0) return false;
        RunClaimed(parts, job);
        return true;
    }

    /// <summary>Runs the job on the pool's threads; the caller has set <c>_busy</c>, and this clears it.</summary>
    private void RunClaimed<TJob>(int parts, TJob job) where TJob : struct, IParallelJob
    {
        try
        {
            if (!_runners.TryGetValue(typeof(TJob), out var r)) _runners[typeof(TJob)] = r = new Runner<TJob>();
            var runner = (Runner<TJob>)r;
            long id = _lastId = (_lastId + 1) & 0xFFFFFF;
            runner.Job = job;
            Volatile.Write(ref runner.Id, id);
            _failure = null;
            Volatile.Write(ref _unfinished, parts);
            Volatile.Write(ref _current, runner);
            if (s_stats) { _workerFirstStart = 0; _workerLastEnd = 0; }
            long published = s_stats ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
            Volatile.Write(ref _claim, (id << 40) | (long)parts);
            int sleepers = Math.Min(Volatile.Read(ref _sleeping), parts - 1);
            if (sleepers > 0) _wake.Release(sleepers);
            Work(runner, id, fromBack: false);
            long callerDone = s_stats ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
            var spin = new SpinWait();
            while (Volatile.Read(ref _unfinished) > 0) spin.SpinOnce(sleep1Threshold: -1);
            if (s_stats) _statsTotal.Add(parts, published, callerDone, System.Diagnostics.Stopwatch.GetTimestamp(), Volatile.Read(ref _workerFirstStart),
                Volatile.Read(ref _workerLastEnd));
            runner.Job = default; // drop references to the job's data
            if (_failure is { } e) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e);
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    private void Work(Runner runner, long id, bool fromBack)
    {
        while (true)
        {
            long c = Volatile.Read(ref _claim);
            if (c >> 40 != id) return;
            long front = (c >> 20) & MaxParts, back = c & MaxParts;
            if (front >= back) return;
            if (Interlocked.CompareExchange(ref _claim, fromBack ? c - 1 : c + (1L << 20), c) != c) continue;
            if (s_stats && fromBack && _workerFirstStart == 0) _workerFirstStart = System.Diagnostics.Stopwatch.GetTimestamp();
            double cpu0 = s_stats ? CpuClock.Thread() ?? 0 : 0;
            try { runner.Execute((int)(fromBack ? back - 1 : front)); }
            catch (Exception e) { Interlocked.CompareExchange(ref _failure, e, null); }
            if (s_stats)
            {
                long ns = (long)(((CpuClock.Thread() ?? 0) - cpu0) * 1e9);
                _statsTotal.AddPartCpu(ns);
                if (fromBack) _statsTotal.AddWorkerPart(ns);
            }
            if (s_stats && fromBack) Volatile.Write(ref _workerLastEnd, System.Diagnostics.Stopwatch.GetTimestamp());
            Interlocked.Decrement(ref _unfinished);
        }
    }

    private void WorkerLoop()
    {
        long seen = 0;
        while (!_disposed)
        {
            // Spin first: the next kernel's job usually arrives within microseconds.
            for (int i = 0; i < SpinIterations && !_disposed && Volatile.Read(ref _claim) >> 40 == seen; i++) Thread.SpinWait(20);
            if (Volatile.Read(ref _claim) >> 40 == seen && !_disposed)
            {
                Interlocked.Increment(ref _sleeping);
                if (Volatile.Read(ref _claim) >> 40 == seen && !_disposed) _wake.Wait();
                Interlocked.Decrement(ref _sleeping);
                continue;
            }
            if (_disposed) return;
            if (Volatile.Read(ref _current) is not { } runner) continue;
            long id = Volatile.Read(ref runner.Id);
            seen = id;
            Work(runner, id, fromBack: true);
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_workers.Length > 0) _wake.Release(_workers.Length);
        foreach (var w in _workers) w.Join();
        _wake.Dispose();
    }

    private abstract class Runner
    {
        public long Id;
        public abstract void Execute(int part);
    }

    private sealed class Runner<TJob> : Runner where TJob : struct, IParallelJob
    {
        public TJob Job;
        public override void Execute(int part) => Job.Execute(part);
    }
}
