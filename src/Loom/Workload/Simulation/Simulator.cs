namespace Loom.Workload.Simulation;

/// <summary>
/// Event-driven simulation of one step. Each device has a compute stream (compute and memory nodes) and a
/// communication stream (collectives and sends), each running one node at a time and preferring the
/// lowest id among ready nodes (the builder's order: 1F1B, then backward order). Compute nodes take their
/// predicted duration; collectives start when every simulated participant has reached them and take their
/// alpha–beta time on the group's link and topology; a receive completes when its send does. Peers of a
/// collective that are not simulated (a workload of representatives) are taken to arrive with the rank.
/// </summary>
public sealed class Simulator
{
    private readonly ClusterSpec _cluster;
    public Simulator(ClusterSpec cluster) => _cluster = cluster;

    private sealed class RankState
    {
        public required RankWorkload W;
        public required int[][] Consumers;
        public required int[] Pending;
        public required int[] ConsumersLeft;
        public readonly PriorityQueue<int, long> ComputeReady = new(), CommReady = new();
        public bool ComputeBusy, CommBusy;
        public double[] Start = [], End = [];
        public bool[] Done = [];
        public long Live, Peak;
        public double ComputeSeconds, CommSeconds;
        public readonly List<(double, double)> ComputeSpans = new(), CommSpans = new();
        public readonly Dictionary<(long Tag, int Src), int> RecvByTag = new();
    }

    private readonly PriorityQueue<(int Rank, int Node), (double Time, long Seq)> _events = new();
    private long _seq;

    public SimulationReport Run(Workload workload)
    {
        var states = new RankState[workload.Ranks.Count];
        var rankIndex = new Dictionary<int, int>();
        for (int r = 0; r < states.Length; r++)
        {
            var w = workload.Ranks[r];
            rankIndex[w.Rank] = r;
            var index = new Dictionary<long, int>(w.Nodes.Count);
            for (int i = 0; i < w.Nodes.Count; i++) index[w.Nodes[i].Id] = i;
            var consumers = new List<int>[w.Nodes.Count];
            var readers = new int[w.Nodes.Count]; // data dependents only: a control dependency holds no memory
            var pending = new int[w.Nodes.Count];
            for (int i = 0; i < w.Nodes.Count; i++) consumers[i] = new List<int>();
            for (int i = 0; i < w.Nodes.Count; i++)
            {
                int dataDeps = w.Nodes[i].DataDeps.Count, k = 0;
                foreach (var d in w.Nodes[i].DataDeps.Concat(w.Nodes[i].CtrlDeps))
                {
                    if (!index.TryGetValue(d, out var j)) throw new WorkloadException($"rank {w.Rank}: node {w.Nodes[i].Id} '{w.Nodes[i].Name}' depends on missing node {d}");
                    consumers[j].Add(i);
                    pending[i]++;
                    if (k++ < dataDeps) readers[j]++;
                }
            }
            var s = new RankState
            {
                W = w, Consumers = consumers.Select(c => c.ToArray()).ToArray(), Pending = pending,
                ConsumersLeft = readers,
                Start = new double[w.Nodes.Count], End = new double[w.Nodes.Count], Done = new bool[w.Nodes.Count], Live = w.StaticBytes, Peak = w.StaticBytes,
            };
            for (int i = 0; i < w.Nodes.Count; i++)
                if (w.Nodes[i].Kind == WorkloadNodeKind.Recv) s.RecvByTag[(w.Nodes[i].Tag, w.Nodes[i].Ranks[0])] = i;
            states[r] = s;
        }

        var arrived = new Dictionary<(string Pg, long Tag), List<(int Rank, int Node)>>();
        var sendDone = new Dictionary<(int Dst, long Tag, int Src), double>();
        var recvWaiting = new Dictionary<(int Dst, long Tag, int Src), (int Rank, int Node)>();
        int finished = 0, total = states.Sum(s => s.W.Nodes.Count);
        double now = 0;

        void Schedule(int r, int i, double start, double end)
        {
            var s = states[r];
            s.Start[i] = start; s.End[i] = end;
            _events.Enqueue((r, i), (end, _seq++));
        }
        void Allocate(RankState s, int i)
        {
            s.Live += s.W.Nodes[i].AllocBytes;
            if (s.Live > s.Peak) s.Peak = s.Live;
        }
        void Ready(int r, int i)
        {
            var s = states[r];
            var n = s.W.Nodes[i];
            switch (n.Kind)
            {
                case WorkloadNodeKind.Recv:
                    var key = (s.W.Rank, n.Tag, n.Ranks[0]);
                    if (!rankIndex.ContainsKey(n.Ranks[0]))
                        Schedule(r, i, now, now + CollectiveCost.SendSeconds(n.CommBytes, LinkOf([n.Ranks[0], n.Ranks[1]])));
                    else if (sendDone.TryGetValue(key, out var t)) Schedule(r, i, now, Math.Max(now, t));
                    else recvWaiting[key] = (r, i);
                    Allocate(s, i);
                    break;
                case WorkloadNodeKind.Collective or WorkloadNodeKind.Send:
                    s.CommReady.Enqueue(i, n.Id);
                    Dispatch(r);
                    break;
                default:
                    s.ComputeReady.Enqueue(i, n.Id);
                    Dispatch(r);
                    break;
            }
        }
        void Dispatch(int r)
        {
            var s = states[r];
            if (!s.ComputeBusy && s.ComputeReady.TryDequeue(out var c, out _))
            {
                s.ComputeBusy = true;
                Allocate(s, c);
                double d = s.W.Nodes[c].Duration;
                s.ComputeSeconds += d;
                s.ComputeSpans.Add((now, now + d));
                Schedule(r, c, now, now + d);
            }
            if (!s.CommBusy && s.CommReady.TryDequeue(out var m, out _))
            {
                s.CommBusy = true;
                Allocate(s, m);
                var n = s.W.Nodes[m];
                if (n.Kind == WorkloadNodeKind.Send)
                {
                    double d = CollectiveCost.SendSeconds(n.CommBytes, LinkOf(n.Ranks));
                    s.CommSeconds += d;
                    s.CommSpans.Add((now, now + d));
                    Schedule(r, m, now, now + d);
                    return;
                }
                var key = (n.ProcessGroup, n.Tag);
                if (!arrived.TryGetValue(key, out var list)) arrived[key] = list = new();
                list.Add((r, m));
                int expected = n.Ranks.Count(rankIndex.ContainsKey);
                if (list.Count < Math.Max(1, expected)) return; // the stream waits for its peers
                arrived.Remove(key);
                double dur = CollectiveCost.Seconds(n.Collective, n.CommBytes, n.Ranks.Count, LinkOf(n.Ranks), _cluster.Topology);
                foreach (var (pr, pn) in list)
                {
                    states[pr].CommSeconds += dur;
                    states[pr].CommSpans.Add((now, now + dur));
                    Schedule(pr, pn, now, now + dur);
                }
            }
        }

        for (int r = 0; r < states.Length; r++)
            for (int i = 0; i < states[r].Pending.Length; i++)
                if (states[r].Pending[i] == 0) Ready(r, i);

        while (_events.TryDequeue(out var ev, out var at))
        {
            now = at.Time;
            var (r, i) = ev;
            var s = states[r];
            var n = s.W.Nodes[i];
            finished++;
            s.Done[i] = true;
            if (n.Kind == WorkloadNodeKind.Send && n.Ranks.Count == 2 && rankIndex.ContainsKey(n.Ranks[1]))
            {
                var key = (n.Ranks[1], n.Tag, n.Ranks[0]);
                sendDone[key] = now;
                if (recvWaiting.Remove(key, out var rv)) Schedule(rv.Rank, rv.Node, states[rv.Rank].Start[rv.Node] = now, now);
            }
            if (n.Kind is WorkloadNodeKind.Compute or WorkloadNodeKind.MemLoad or WorkloadNodeKind.MemStore) s.ComputeBusy = false;
            else if (n.Kind != WorkloadNodeKind.Recv) s.CommBusy = false;
            foreach (var d in n.DataDeps)
            {
                int j = IndexOf(s, d);
                if (--s.ConsumersLeft[j] == 0) s.Live -= s.W.Nodes[j].AllocBytes;
            }
            if (s.ConsumersLeft[i] == 0) s.Live -= n.AllocBytes; // nothing reads it: freed as it ends (its readers cannot have ended before it)
            foreach (var c in s.Consumers[i])
                if (--s.Pending[c] == 0) Ready(r, c);
            Dispatch(r);
            // A collective completing frees its peers' streams too; they are dispatched by their own events.
        }
        if (finished < total)
        {
            var stuck = states.SelectMany(s => s.W.Nodes.Where((_, i) => !s.Done[i]).Take(1).Select(n => $"rank {s.W.Rank} node {n.Id} '{n.Name}'")).First();
            throw new WorkloadException($"simulation stalled with {total - finished} of {total} nodes not run (a collective or receive whose peers never arrive?), first at {stuck}");
        }

        double step = states.Length == 0 ? 0 : states.Max(s => s.End.DefaultIfEmpty(0).Max());
        var ranks = new List<RankReport>();
        long totalFlops = 0;
        for (int r = 0; r < states.Length; r++)
        {
            var s = states[r];
            int mult = r < workload.Multiplicity.Count ? workload.Multiplicity[r] : 1;
            long flops = s.W.Nodes.Sum(n => n.Kind == WorkloadNodeKind.Compute ? n.Flops : 0);
            totalFlops += flops * mult;
            ranks.Add(new RankReport(s.W.Rank, mult, s.ComputeSeconds, s.CommSeconds, Intervals.Exposed(s.CommSpans, s.ComputeSpans),
                step > 0 ? s.ComputeSeconds / step : 0, s.Peak, flops, s.Start, s.End));
        }
        int devices = ranks.Sum(x => x.Multiplicity);
        double fu = step > 0 ? totalFlops / (step * devices * _cluster.Device.PeakFlops) : 0;
        return new SimulationReport(step, ranks, totalFlops, fu);
    }

    private Dictionary<long, int>? _lastIndex;
    private RankState? _lastState;
    private int IndexOf(RankState s, long id)
    {
        // Builder output has id == index; imported files may not, so fall back to a map.
        if (id < s.W.Nodes.Count && s.W.Nodes[(int)id].Id == id) return (int)id;
        if (!ReferenceEquals(_lastState, s))
        {
            _lastState = s;
            _lastIndex = new Dictionary<long, int>();
            for (int i = 0; i < s.W.Nodes.Count; i++) _lastIndex[s.W.Nodes[i].Id] = i;
        }
        return _lastIndex![id];
    }

    private LinkSpec LinkOf(IReadOnlyList<int> ranks) => _cluster.LinkFor(ranks);
}
