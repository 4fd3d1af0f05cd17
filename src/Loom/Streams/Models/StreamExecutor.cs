using System.Collections.Concurrent;
using System.Diagnostics;

namespace Loom.Streams.Models;

/// <summary>A stage as it runs: its session (shared by all its copies) and the values it reads from the item.</summary>
internal sealed record StageRunner(int Index, LoomSession Session, string[] Reads, int Replicas);

/// <summary>Counts of the last run of a stream: items, wall time, and each stage's summed busy time (all its copies).</summary>
public sealed record StreamStats(long Items, double WallSeconds, double[] StageBusySeconds)
{
    public double ItemsPerSecond => Items / Math.Max(WallSeconds, 1e-9);
}

/// <summary>
/// Runs items through the stages: one thread per stage copy, an unbounded queue between stages but at most
/// <c>maxInFlight</c> items admitted and not yet handed back (back-pressure: the feeder waits), and a reorder
/// buffer so the caller gets outputs in input order. An item carries the named values made so far; each stage
/// reads what it needs from it and adds what it makes. The first failure stops the run and is thrown to the
/// caller, naming the item and the stage.
/// </summary>
internal sealed class StreamExecutor(StageRunner[] stages, string[] modelInputs, bool lastStageHasAllOutputs, string[] modelOutputs)
{
    private readonly StageRunner[] _stages = stages;
    private readonly HashSet<string> _modelInputs = [.. modelInputs];

    public StreamStats? LastStats { get; private set; }

    private sealed class Item(long seq, Dictionary<string, LoomValue> values)
    {
        public readonly long Seq = seq;
        public readonly Dictionary<string, LoomValue> Values = values;
        public readonly List<RunResult> Held = [];
        public RunResult? Final;

        public void DisposeAll()
        {
            foreach (var r in Held) r.Dispose();
            Final?.Dispose();
        }
    }

    public IEnumerable<RunResult> Run(IEnumerable<IReadOnlyDictionary<string, LoomValue>> inputs, int maxInFlight, CancellationToken cancellation)
    {
        var run = new ActiveRun(this, inputs, maxInFlight, cancellation);
        var sw = Stopwatch.StartNew();
        long count = 0;
        try
        {
            run.Start();
            while (run.Take(count) is { } item)
            {
                count++;
                yield return Finish(item);
            }
            LastStats = new StreamStats(count, sw.Elapsed.TotalSeconds, run.Busy.Select(t => t / (double)Stopwatch.Frequency).ToArray());
        }
        finally { run.Stop(); }
    }

    /// <summary>The item's model outputs as one result: the last stage's own when it made them all, else copies.</summary>
    private RunResult Finish(Item item)
    {
        if (lastStageHasAllOutputs)
        {
            foreach (var r in item.Held) r.Dispose();
            return item.Final!;
        }
        foreach (var nv in item.Final!) item.Values[nv.Name] = nv.Value;
        var named = modelOutputs.Select(o => new NamedValue(o, item.Values[o] is Tensor t ? t.Clone() : item.Values[o])).ToArray();
        item.DisposeAll();
        return new RunResult(named);
    }

    private sealed class ActiveRun
    {
        private readonly StreamExecutor _x;
        private readonly IEnumerable<IReadOnlyDictionary<string, LoomValue>> _inputs;
        private readonly SemaphoreSlim _window;
        private readonly CancellationTokenSource _cts;
        private readonly BlockingCollection<Item>[] _queues;
        private readonly int[] _running;
        private readonly Dictionary<long, Item> _done = new();
        private readonly object _lock = new(); // Monitor.Wait/PulseAll need an object, not a Lock
        private readonly List<Thread> _threads = [];
        private long _total = -1; // items fed, once the input has ended
        private Exception? _error;
        public readonly long[] Busy;

        public ActiveRun(StreamExecutor x, IEnumerable<IReadOnlyDictionary<string, LoomValue>> inputs, int maxInFlight, CancellationToken ct)
        {
            _x = x;
            _inputs = inputs;
            _window = new SemaphoreSlim(maxInFlight);
            _cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            _queues = x._stages.Select(_ => new BlockingCollection<Item>()).ToArray();
            _running = x._stages.Select(s => s.Replicas).ToArray();
            Busy = new long[_queues.Length];
        }

        public void Start()
        {
            Spawn("feed", Feed);
            foreach (var s in _x._stages)
                for (int r = 0; r < s.Replicas; r++) Spawn($"stage{s.Index}.{r}", () => Work(s));
        }

        private void Spawn(string name, Action body)
        {
            var t = new Thread(() => body()) { IsBackground = true, Name = "loom-stream-" + name };
            _threads.Add(t);
            t.Start();
        }

        private void Feed()
        {
            long seq = 0;
            try
            {
                foreach (var input in _inputs)
                {
                    if (input is null) throw new InputException($"stream item {seq} is null");
                    foreach (var name in input.Keys)
                        if (!_x._modelInputs.Contains(name))
                            throw new InputException($"stream item {seq}: the model has no input named '{name}' (inputs: {string.Join(", ", _x._modelInputs)})");
                    _window.Wait(_cts.Token);
                    _queues[0].Add(new Item(seq++, new Dictionary<string, LoomValue>(input)), _cts.Token);
                }
                lock (_lock) { _total = seq; Pulse(); }
            }
            catch (OperationCanceledException) { }
            catch (Exception e) { Fail(e is LoomException ? e : new InputException($"stream item {seq}: reading the input failed: {e.Message}")); }
            finally { _queues[0].CompleteAdding(); }
        }

        private void Work(StageRunner s)
        {
            bool last = s.Index == _queues.Length - 1;
            try
            {
                foreach (var item in _queues[s.Index].GetConsumingEnumerable(_cts.Token))
                {
                    long t0 = Stopwatch.GetTimestamp();
                    var feeds = new Dictionary<string, LoomValue>(s.Reads.Length);
                    foreach (var r in s.Reads)
                        if (item.Values.TryGetValue(r, out var v)) feeds[r] = v;
                    RunResult result;
                    try { result = s.Session.Run(feeds, _cts.Token); }
                    catch (OperationCanceledException) { item.DisposeAll(); throw; }
                    catch (Exception e)
                    {
                        item.DisposeAll();
                        Fail(e switch
                        {
                            InputException => new InputException($"stream item {item.Seq}: {e.Message}"),
                            LoomException => new StreamException($"stream item {item.Seq}, stage{s.Index}: {e.Message}", e),
                            _ => new ExecutionException($"stream item {item.Seq}, stage{s.Index}: {e.Message}", e),
                        });
                        return;
                    }
                    Interlocked.Add(ref Busy[s.Index], Stopwatch.GetTimestamp() - t0);
                    if (last)
                    {
                        item.Final = result;
                        lock (_lock) { _done[item.Seq] = item; Pulse(); }
                    }
                    else
                    {
                        item.Held.Add(result);
                        foreach (var nv in result) item.Values[nv.Name] = nv.Value;
                        _queues[s.Index + 1].Add(item, _cts.Token);
                    }
                }
            }
            catch (OperationCanceledException) { }
            finally
            {
                // The last copy of a stage to finish closes the next stage's queue.
                if (Interlocked.Decrement(ref _running[s.Index]) == 0 && !last) _queues[s.Index + 1].CompleteAdding();
                if (last) lock (_lock) Pulse();
            }
        }

        private void Fail(Exception e)
        {
            lock (_lock)
            {
                _error ??= e;
                Pulse();
            }
            _cts.Cancel();
        }

        private void Pulse() => Monitor.PulseAll(_lock);

        /// <summary>Item <paramref name="seq"/> once it is done; null after the last; throws the run's first failure.</summary>
        public Item? Take(long seq)
        {
            lock (_lock)
            {
                while (true)
                {
                    if (_error is not null) throw _error;
                    if (_done.Remove(seq, out var item))
                    {
                        _window.Release();
                        return item;
                    }
                    if (_total >= 0 && seq >= _total) return null;
                    if (_cts.IsCancellationRequested) throw new OperationCanceledException(_cts.Token);
                    Monitor.Wait(_lock);
                }
            }
        }

        /// <summary>Stops the threads (the caller may have left early) and frees what was not handed out.</summary>
        public void Stop()
        {
            _cts.Cancel();
            foreach (var t in _threads) t.Join();
            foreach (var q in _queues) while (q.TryTake(out var item)) item.DisposeAll();
            foreach (var item in _done.Values) item.DisposeAll();
            _done.Clear();
            _cts.Dispose();
        }
    }

}
