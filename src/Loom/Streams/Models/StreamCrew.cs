namespace Loom.Streams.Models;

/// <summary>
/// The threads a stream's copies run on, kept from one <see cref="ModelStream.Stream"/> call to the next. A thread
/// made per call starts with nothing of its own: the GEMM packing buffers (<c>GemmScratch</c>, per thread) are allocated
/// again and their pages faulted in on first touch, which a short stream pays on every call (64 classifier items take
/// 25 ms on two cores; a 2-stage pipeline of an 8 MiB matrix product allocated 2 MiB of packing buffers a call). Thread
/// <c>i</c> always plays the same part (<c>names[i]</c>: a copy of the same stage, or the feeder), so its scratch and the
/// session frames it takes back first stay sized for that part. One call at a time uses the crew; a concurrent call gets
/// threads of its own.
/// </summary>
internal sealed class StreamCrew(string[] names) : IDisposable
{
    private readonly Lock _lock = new();
    private readonly List<Thread> _threads = [];
    private readonly SemaphoreSlim[] _go = names.Select(_ => new SemaphoreSlim(0)).ToArray(); // one each: thread i must run part i
    private readonly CountdownEvent _finished = new(0);
    private Action<int>? _body;
    private int _busy;
    private volatile bool _disposed;

    /// <summary>Runs <c>body(i)</c> on crew thread <c>i</c>, for each of the crew's names; false (nothing started) when another call holds the crew.</summary>
    public bool TryStart(Action<int> body)
    {
        if (names.Length == 0) return true;
        if (_disposed || Interlocked.CompareExchange(ref _busy, 1, 0) != 0) return false;
        lock (_lock)
        {
            while (_threads.Count < names.Length)
            {
                int part = _threads.Count;
                var t = new Thread(() => Loop(part)) { IsBackground = true, Name = "loom-stream-" + names[part] };
                _threads.Add(t);
                t.Start();
            }
        }
        _body = body;
        _finished.Reset(names.Length);
        foreach (var go in _go) go.Release();
        return true;
    }

    /// <summary>Waits for the threads started by <see cref="TryStart"/> to finish their bodies and frees the crew.</summary>
    public void Join()
    {
        _finished.Wait();
        _body = null;
        Volatile.Write(ref _busy, 0);
    }

    private void Loop(int part)
    {
        while (true)
        {
            _go[part].Wait();
            if (_disposed) return;
            try { _body!(part); }
            finally { _finished.Signal(); }
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        lock (_lock) for (int i = 0; i < _threads.Count; i++) _go[i].Release();
    }
}
