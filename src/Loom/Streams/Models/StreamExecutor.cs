using System.Collections.Concurrent;
using System.Diagnostics;

namespace Loom.Streams.Models;

/// <summary>A stage as it runs: its session (shared by all its copies) and the values it reads from the item.</summary>
/// <remarks>A stage with <see cref="Feedback"/> holds the stream's recurrent state (one copy: items in order), starting each run from <see cref="Initial"/>.</remarks>
internal sealed record StageRunner(int Index, LoomSession Session, string[] Reads, int Replicas,
    StreamFeedback? Feedback = null, IReadOnlyDictionary<string, Tensor>? Initial = null)
{
    /// <summary>Stacks and splits the items of a firing when the stage runs several per firing (its session then takes a batch); null = one at a time.</summary>
    public StageBatch? Batch { get; init; }
}

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
/// A single stage of R copies (replicas of the whole model: what the planner picks for most models) runs without
/// the feeder and on R threads in all: R − 1 copies take the next input themselves, and the caller's thread, while
/// the output it waits for is not done, runs items too. With a feeder and R workers beside the caller, four threads
/// shared two cores and every item woke two of them: the PaddleOCR classifier (0.7 ms an item) reached 1.1–1.6× one
/// core instead of 2. Those R − 1 threads, and a pipeline's feeder and stage copies, are the executor's own
/// (<see cref="StreamCrew"/>), kept between calls.
/// A stage with several items per firing (<see cref="StageRunner.Batch"/>) takes up to that many at once — what is
/// there: a copy does not wait for the window to free up nor, past <see cref="GatherWaitMs"/>, for an earlier stage —
/// and runs them as one batch; the stream's last firing is the partial batch the items left make.
/// </summary>
internal sealed class StreamExecutor(StageRunner[] stages, string[] modelInputs, bool lastStageHasAllOutputs, string[] modelOutputs) : IDisposable
{
    private readonly StageRunner[] _stages = stages;
    private readonly HashSet<string> _modelInputs = [.. modelInputs];
    private readonly StreamCrew _crew = new(CrewParts(stages));

    /// <summary>A pipeline's stage copies, in the order of its crew's parts after the feeder.</summary>
    private readonly StageRunner[] _copies = stages.Length == 1 ? [] : [.. stages.SelectMany(s => Enumerable.Repeat(s, s.Replicas))];

    /// <summary>
    /// The crew's threads: a single stage's copies but the first (the caller's thread is that one), or a pipeline's feeder
    /// and every copy of every stage.
    /// </summary>
    private static string[] CrewParts(StageRunner[] stages) => stages.Length == 1
        ? [.. Enumerable.Range(1, stages[0].Replicas - 1).Select(r => $"stage0.{r}")]
        : ["feed", .. stages.SelectMany(s => Enumerable.Range(0, s.Replicas).Select(r => $"stage{s.Index}.{r}"))];

    /// <summary>How long a copy of a batched pipeline stage waits for its firing's next item before it runs the items it has.</summary>
    private const int GatherWaitMs = 20;

    public void Dispose() => _crew.Dispose();

    public StreamStats? LastStats { get; private set; }

    /// <summary>
    /// One copy's scratch, used by one thread at a time (a stage copy's own, or the caller's): the feeds of its runs and,
    /// for a batched stage, its firing's. Reused run after run, so running an item allocates only what the session does.
    /// </summary>
    private sealed class Scratch(StageRunner s)
    {
        public readonly Dictionary<string, LoomValue> Feeds = new(s.Reads.Length);
        public readonly List<Item> Items = new(s.Batch?.ItemsPerFiring ?? 1);
        public readonly StageBatch.Firing? Firing = s.Batch is { } b ? new StageBatch.Firing(b.ItemsPerFiring) : null;
    }

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

    public IEnumerable<RunResult> Run(IEnumerable<IReadOnlyDictionary<string, LoomValue>> inputs, int maxInFlight, CancellationToken cancellation, RunTrace? trace = null)
    {
        var run = new ActiveRun(this, inputs, maxInFlight, cancellation, trace);
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
        private bool _crewStarted;
        private long _total = -1; // items fed, once the input has ended
        private Exception? _error;
        private readonly bool _pull; // one stage: its copies (and the caller) take inputs themselves
        private readonly object _inputLock = new();
        private IEnumerator<IReadOnlyDictionary<string, LoomValue>>? _input;
        private long _fed;
        private readonly StreamFeedback.Run? _state; // the stateful stage's: only its one copy touches it
        public readonly long[] Busy;

        private readonly RunTrace? _trace;
        private Scratch? _caller; // the caller's thread's, when it runs items of the only stage

        public ActiveRun(StreamExecutor x, IEnumerable<IReadOnlyDictionary<string, LoomValue>> inputs, int maxInFlight, CancellationToken ct, RunTrace? trace)
        {
            _x = x;
            _trace = trace;
            trace?.Begin();
            _inputs = inputs;
            _window = new SemaphoreSlim(maxInFlight);
            _cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            _queues = x._stages.Select(_ => new BlockingCollection<Item>()).ToArray();
            _running = x._stages.Select(s => s.Replicas).ToArray();
            Busy = new long[_queues.Length];
            _pull = x._stages.Length == 1;
            if (x._stages.FirstOrDefault(s => s.Feedback is not null) is { Feedback: { } fb } stateful)
                _state = new StreamFeedback.Run(fb, stateful.Initial ?? new Dictionary<string, Tensor>());
        }

        public void Start()
        {
            if (_pull)
            {
                _input = _inputs.GetEnumerator();
                var stage = _x._stages[0];
                _crewStarted = _x._crew.TryStart(_ => Pull(stage));
                if (!_crewStarted) for (int r = 1; r < stage.Replicas; r++) Spawn($"stage0.{r}", () => Pull(stage));
                return;
            }
            _crewStarted = _x._crew.TryStart(part => { if (part == 0) Feed(); else Work(_x._copies[part - 1]); });
            if (_crewStarted) return;
            Spawn("feed", Feed);
            foreach (var s in _x._stages)
                for (int r = 0; r < s.Replicas; r++) Spawn($"stage{s.Index}.{r}", () => Work(s));
        }

        /// <summary>A copy of the only stage: takes the next input itself until none is left.</summary>
        private void Pull(StageRunner s)
        {
            var scratch = new Scratch(s);
            try
            {
                while (Admit(wait: true) is { } item)
                    if (!(s.Batch is null ? RunItem(s, item, scratch) : Fire(s, item, scratch))) return;
            }
            catch (OperationCanceledException) { }
        }

        /// <summary>
        /// The next input as an item, or null when the input has ended, the run failed, or (with <paramref name="wait"/>
        /// false) the window is full. Waiting happens outside the input's lock.
        /// </summary>
        private Item? Admit(bool wait)
        {
            if (wait) _window.Wait(_cts.Token);
            else if (!_window.Wait(0)) return null;
            bool admitted = false;
            try
            {
                lock (_inputLock)
                {
                    if (_input is null || _cts.IsCancellationRequested) return null;
                    if (!_input.MoveNext())
                    {
                        _input.Dispose();
                        _input = null;
                        lock (_lock) { _total = _fed; Pulse(); }
                        return null;
                    }
                    var item = MakeItem(_input.Current, _fed);
                    _fed++;
                    admitted = true;
                    return item;
                }
            }
            catch (OperationCanceledException) { throw; }
            catch (Exception e)
            {
                Fail(e is LoomException ? e : new InputException($"stream item {_fed}: reading the input failed: {e.Message}"));
                return null;
            }
            finally { if (!admitted) _window.Release(); }
        }

        private Item MakeItem(IReadOnlyDictionary<string, LoomValue> input, long seq)
        {
            if (input is null) throw new InputException($"stream item {seq} is null");
            foreach (var name in input.Keys)
                if (!_x._modelInputs.Contains(name))
                    throw new InputException($"stream item {seq}: the model has no input named '{name}' (inputs: {string.Join(", ", _x._modelInputs)})");
            return new Item(seq, new Dictionary<string, LoomValue>(input));
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
                    var item = MakeItem(input, seq++);
                    _window.Wait(_cts.Token);
                    _queues[0].Add(item, _cts.Token);
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
            // Copies of an earlier stage finish items out of order; the stateful stage must take them in order.
            var early = s.Feedback is null ? null : new Dictionary<long, Item>();
            var scratch = new Scratch(s);
            try
            {
                if (s.Batch is { } batch && early is null)
                {
                    var firing = scratch.Items;
                    var queue = _queues[s.Index];
                    while (queue.TryTake(out var first, Timeout.Infinite, _cts.Token))
                    {
                        firing.Clear();
                        firing.Add(first);
                        while (firing.Count < batch.ItemsPerFiring && queue.TryTake(out var more, GatherWaitMs, _cts.Token)) firing.Add(more);
                        if (!RunBatch(s, scratch)) return;
                    }
                    return;
                }
                long next = 0;
                foreach (var item in _queues[s.Index].GetConsumingEnumerable(_cts.Token))
                {
                    if (early is null) { if (!RunItem(s, item, scratch)) return; continue; }
                    early[item.Seq] = item;
                    while (early.Remove(next, out var due))
                    {
                        next++;
                        if (!RunItem(s, due, scratch)) return;
                    }
                }
            }
            catch (OperationCanceledException) { }
            finally
            {
                if (early is not null) foreach (var item in early.Values) item.DisposeAll(); // left by a failed run
                // The last copy of a stage to finish closes the next stage's queue.
                if (Interlocked.Decrement(ref _running[s.Index]) == 0 && !last) _queues[s.Index + 1].CompleteAdding();
                if (last) lock (_lock) Pulse();
            }
        }

        /// <summary>Runs one item through stage <paramref name="s"/> and passes it on; false when it failed (the run is stopping).</summary>
        private bool RunItem(StageRunner s, Item item, Scratch scratch)
        {
            long t0 = Stopwatch.GetTimestamp();
            var feeds = scratch.Feeds;
            feeds.Clear();
            foreach (var r in s.Reads)
                if (item.Values.TryGetValue(r, out var v)) feeds[r] = v;
            RunResult result;
            try
            {
                if (s.Feedback is not null) _state!.Feed(item.Seq, item.Values, feeds);
                result = s.Session.Run(feeds, _cts.Token);
                if (s.Feedback is not null) _state!.Keep(result);
            }
            catch (OperationCanceledException) { item.DisposeAll(); throw; }
            catch (Exception e)
            {
                item.DisposeAll();
                Fail(Wrapped(e, $"stream item {item.Seq}", s));
                return false;
            }
            feeds.Clear(); // holds no item's values past its run
            Timed(s, t0, item.Seq, item.Seq);
            Pass(s, item, result);
            return true;
        }

        /// <summary>A stage's failure on <paramref name="items"/> as the stream reports it: bad input stays an input error.</summary>
        private static Exception Wrapped(Exception e, string items, StageRunner s) => e switch
        {
            InputException => new InputException($"{items}: {e.Message}"),
            LoomException => new StreamException($"{items}, stage{s.Index}: {e.Message}", e),
            _ => new ExecutionException($"{items}, stage{s.Index}: {e.Message}", e),
        };

        /// <summary>Adds a run's time to the stage's busy time and, when tracing, its span to this thread's track.</summary>
        private void Timed(StageRunner s, long t0, long firstSeq, long lastSeq)
        {
            long t1 = Stopwatch.GetTimestamp();
            Interlocked.Add(ref Busy[s.Index], t1 - t0);
            if (_trace is not null)
            {
                // One track per thread: a stage's copies, and the caller's thread when it runs items itself.
                int track = Environment.CurrentManagedThreadId;
                _trace.NameTrack(track, Thread.CurrentThread.Name ?? "caller");
                string what = firstSeq == lastSeq ? $"item {firstSeq}" : $"items {firstSeq}..{lastSeq}";
                _trace.AddSpan(what, $"stage{s.Index}", track, t0, t1);
            }
        }

        /// <summary>Hands an item with stage <paramref name="s"/>'s result on: to the next stage's queue, or to the caller after the last.</summary>
        private void Pass(StageRunner s, Item item, RunResult result)
        {
            bool last = s.Index == _queues.Length - 1;
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

        /// <summary>One firing of the only stage, batched: <paramref name="first"/> and what else the window admits now, up to the stage's items per firing.</summary>
        private bool Fire(StageRunner s, Item first, Scratch scratch)
        {
            var firing = scratch.Items;
            firing.Clear();
            firing.Add(first);
            while (firing.Count < s.Batch!.ItemsPerFiring && Admit(wait: false) is { } more) firing.Add(more);
            return RunBatch(s, scratch);
        }

        /// <summary>Runs the items of a firing through stage <paramref name="s"/> as one batch and passes each on; false when it failed.</summary>
        private bool RunBatch(StageRunner s, Scratch scratch)
        {
            var firing = scratch.Items;
            int k = firing.Count;
            if (k == 1) return RunItem(s, firing[0], scratch); // the batch session at batch 1
            long t0 = Stopwatch.GetTimestamp();
            var f = scratch.Firing!;
            f.Values.Clear();
            for (int i = 0; i < k; i++) f.Values.Add(firing[i].Values);
            var rented = s.Batch!.Stack(s.Reads, f);
            f.Values.Clear();
            if (rented is null) // items that do not stack (sizes differ): one at a time
            {
                for (int i = 0; i < k; i++)
                    if (!RunItem(s, firing[i], scratch)) { for (int j = i + 1; j < k; j++) firing[j].DisposeAll(); return false; }
                return true;
            }
            var results = f.Results;
            bool ran = false;
            try
            {
                var batch = s.Session.Run(f.Feeds, _cts.Token);
                ran = true; // from here Split frees the batch and the buffers itself when it throws
                f.Feeds.Clear();
                s.Batch.Split(batch, k, rented, f, s.Index);
            }
            catch (OperationCanceledException)
            {
                f.Feeds.Clear();
                if (!ran) s.Batch.Return(rented);
                foreach (var item in firing) item.DisposeAll();
                throw;
            }
            catch (Exception e)
            {
                f.Feeds.Clear();
                if (!ran) s.Batch.Return(rented);
                foreach (var item in firing) item.DisposeAll();
                string items = $"stream items {firing[0].Seq}..{firing[^1].Seq} (one batch)";
                Fail(Wrapped(e, items, s));
                return false;
            }
            Timed(s, t0, firing[0].Seq, firing[^1].Seq);
            for (int i = 0; i < k; i++)
            {
                Pass(s, firing[i], results[i]);
                results[i] = null!;
            }
            return true;
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
            while (true)
            {
                lock (_lock)
                {
                    if (_error is not null) throw _error;
                    if (_done.Remove(seq, out var item))
                    {
                        _window.Release();
                        return item;
                    }
                    if (_total >= 0 && seq >= _total) return null;
                    if (_cts.IsCancellationRequested) throw new OperationCanceledException(_cts.Token);
                    // Pulling: the caller's thread is the stage's first copy, so it waits only when no input can start.
                    if (!_pull || _input is null) { Monitor.Wait(_lock); continue; }
                }
                // Another copy's failure cancels the item this thread runs: the loop then throws that failure, not the cancellation.
                if (Admit(wait: false) is { } next)
                    try
                    {
                        var s = _x._stages[0];
                        _caller ??= new Scratch(s);
                        if (s.Batch is null) RunItem(s, next, _caller); else Fire(s, next, _caller);
                    }
                    catch (OperationCanceledException) when (Volatile.Read(ref _error) is not null) { }
                else lock (_lock)
                    if (!_done.ContainsKey(seq) && _error is null && !(_total >= 0 && seq >= _total)) Monitor.Wait(_lock, 1);
            }
        }

        /// <summary>Stops the threads (the caller may have left early) and frees what was not handed out.</summary>
        public void Stop()
        {
            _cts.Cancel();
            if (_crewStarted) _x._crew.Join();
            foreach (var t in _threads) t.Join();
            lock (_inputLock) { _input?.Dispose(); _input = null; }
            foreach (var q in _queues) while (q.TryTake(out var item)) item.DisposeAll();
            foreach (var item in _done.Values) item.DisposeAll();
            _done.Clear();
            _cts.Dispose();
        }
    }

}
