namespace Loom.Streams.Models;

/// <summary>
/// The threads a stream's copies run on, kept from one <see cref="ModelStream.Stream"/> call to the next. A thread
/// made per call starts with nothing of its own: the GEMM packing buffers (<c>GemmScratch</c>, per thread) are allocated
/// again and their pages faulted in on first touch, which a short stream pays on every call (64 classifier items take
/// 25 ms on two cores). One call at a time uses the crew; a concurrent call gets threads of its own.
/// </summary>
internal sealed class StreamCrew(string name) : IDisposable
{
    private readonly Lock _lock = new();
    private readonly List<Thread> _threads = [];
    private readonly SemaphoreSlim _go = new(0);
    private readonly CountdownEvent _finished = new(0);
    private Action? _body;
    private int _busy;
    private volatile bool _disposed;

    /// <summary>Runs <paramref name="body"/> on <paramref name="count"/> crew threads; false (nothing started) when another call holds the crew.</summary>
    public bool TryStart(Action body, int count)
    {
        if (count <= 0) return true;
        if (_disposed || Interlocked.CompareExchange(ref _busy, 1, 0) != 0) return false;
        lock (_lock)
        {
            while (_threads.Count < count)
            {
                var t = new Thread(Loop) { IsBackground = true, Name = $"loom-stream-{name}.{_threads.Count + 1}" };
                _threads.Add(t);
                t.Start();
            }
        }
        _body = body;
        _finished.Reset(count);
        _go.Release(count);
        return true;
    }

    /// <summary>Waits for the threads started by <see cref="TryStart"/> to finish their bodies and frees the crew.</summary>
    public void Join()
    {
        _finished.Wait();
        _body = null;
        Volatile.Write(ref _busy, 0);
    }

    private void Loop()
    {
        while (true)
        {
            _go.Wait();
            if (_disposed) return;
            try { _body!(); }
            finally { _finished.Signal(); }
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        lock (_lock) if (_threads.Count > 0) _go.Release(_threads.Count);
    }
}
