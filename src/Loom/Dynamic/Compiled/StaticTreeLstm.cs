using Loom.Dynamic.Data;
using Loom.Dynamic.Models;
using Loom.Kernels.Batched;
using Loom.Kernels.Common;
using Loom.Runtime.Threading;

namespace Loom.Dynamic.Compiled;

/// <summary>
/// The TreeLSTM batched at compile time (ACRoBat's approach): the cell is known ahead, so a forward is a
/// <see cref="TreePlan"/> (depth tracked inline, no per-node graph) and then, per level, two GEMMs and one
/// fused gate pass over contiguous rows. The results equal the per-node graph's.
/// </summary>
public sealed unsafe partial class StaticTreeLstm
{
    private readonly TreeLstm _m;
    private readonly TreeLstmWeights _w;
    private readonly TreePlan _plan = new();
    private float[] _x = [], _cx = [], _g = [], _leafG = [], _leafH = [], _leafC = [], _rootH = [], _rootC = [];

    private readonly WorkerPool? _pool;
    private float[] _rowLoss = [];

    /// <param name="pool">Splits forwards across threads; null runs on the calling thread.</param>
    public StaticTreeLstm(TreeLstm model, WorkerPool? pool = null) : this(model, pool, partsPerThread: 1) { }

    /// <param name="partsPerThread">
    /// Most hidden-unit parts per thread. One (the default) was fastest on an idle machine: 2.00× one thread at
    /// H = 512 against 1.93× with four; more parts, claimed as threads come free, were meant to let a thread the OS
    /// takes off its core hold up one part rather than half a level, but under load neither scaled.
    /// </param>
    internal StaticTreeLstm(TreeLstm model, WorkerPool? pool, int partsPerThread)
    {
        _m = model;
        _pool = pool is { Threads: > 1 } ? pool : null;
        _w = new TreeLstmWeights(model);
        // Parts of whole 32-column panels of the packed weights.
        if (_pool is not null)
            for (int parts = partsPerThread * _pool.Threads; parts >= _pool.Threads; parts--)
                if (model.Hidden % (32 * parts) == 0) { _hiddenParts = parts; break; }
    }

    /// <summary>Threads split inference forwards by hidden units (see <see cref="TreeLstmWeights"/>); 1: by rows.</summary>
    private readonly int _hiddenParts = 1;

    /// <summary>
    /// Profiling: the hidden-unit split of <paramref name="hiddenParts"/> threads run on the calling thread alone, part
    /// after part, each part's thread CPU time added to <see cref="PartCpuSeconds"/> (so the critical path of a
    /// parallel forward can be measured on a machine too busy to time the threads themselves).
    /// </summary>
    internal StaticTreeLstm(TreeLstm model, int hiddenParts) : this(model, null, 1)
    {
        if (hiddenParts < 1 || model.Hidden % (32 * hiddenParts) != 0) throw new ArgumentOutOfRangeException(nameof(hiddenParts));
        _hiddenParts = hiddenParts;
    }

    /// <summary>With the profiling constructor: per batch (leaves, then levels) of the last forwards, the CPU seconds of each part.</summary>
    internal List<double[]>? PartCpuSeconds { get; set; }

    /// <summary>When set, the leaf batch and every level of the next forwards are recorded on it.</summary>
    public BatchTrace? Trace { get; set; }

    /// <summary>Share identical leaf computations (same word) within a forward.</summary>
    public bool DedupLeaves { get; set; } = true;

    /// <summary>Batched kernel calls of the last forward (GEMMs and fused passes) and bytes copied.</summary>
    public int KernelCalls { get; private set; }
    /// <summary>Cell batches of the last forward and their lower bound (the tallest tree's height).</summary>
    public int CellBatches { get; private set; }
    public int CellLowerBound { get; private set; }
    public long BytesCopied { get; private set; }

    /// <summary>The root h of tree b after the last forward.</summary>
    public ReadOnlySpan<float> RootH(int b) => _rootH.AsSpan(b * _m.Hidden, _m.Hidden);

    /// <summary>One forward over <paramref name="trees"/>; returns the summed loss (root only, or every node).</summary>
    public float Forward(IReadOnlyList<SstTree> trees, bool everyNode) => Forward(trees, everyNode, keep: false);

    /// <param name="keep">Keep every row's gate activations (for <see cref="TrainStep"/>'s backward pass).</param>
    internal float Forward(IReadOnlyList<SstTree> trees, bool everyNode, bool keep)
    {
        int hd = _m.Hidden;
        // The backward pass reads kept gate rows in the plain layout, so training splits by rows.
        int parts = keep ? 1 : _hiddenParts;
        if (!UseFused(keep)) _w.Refresh(parts);
        var p = _plan;
        p.Build(trees, _m.Embedding.Count, DedupLeaves);
        Grow(ref _rootH, p.Trees * hd); Grow(ref _rootC, p.Trees * hd);
        Grow(ref _rowLoss, p.Rows);
        if (UseFused(keep)) return ForwardFused(p, everyNode, parts);
        Grow(ref _x, p.Rows * 2 * hd); Grow(ref _cx, p.Rows * 2 * hd);
        Grow(ref _leafH, p.Unique * hd); Grow(ref _leafC, p.Unique * hd);
        int widest = 0;
        for (int l = 0; l < p.Levels; l++) widest = Math.Max(widest, p.LevelStart[l + 1] - p.LevelStart[l]);
        Grow(ref _g, (keep ? p.Rows : widest) * 5 * hd);
        Grow(ref _leafG, p.Unique * 3 * hd);
        double loss = 0;
        int calls = 0;
        long copied = 0;
        var wout = _m.Wout;
        fixed (float* x = _x, cx = _cx, g = _g, lg = _leafG, lh = _leafH, lc = _leafC, rh = _rootH, rc = _rootC)
        fixed (float* lb = _w.LeafBias, nb = _w.NodeBias, rowLoss = _rowLoss, pw = wout.Value)
        {
            // Leaves: one GEMM over the distinct words' embedding rows (gathered by pointer), one fused pass.
            float** rows = (float**)NativeRows(p.Unique);
            for (int u = 0; u < p.Unique; u++) rows[u] = _m.Embedding.Row(p.UniqueWord[u]);
            var leafJob = new LeafJob
            {
                Hd = hd, Count = p.Unique, Rows = rows, G = lg, H = lh, C = lc, Bias = lb, B = _w.Leaf, Keep = keep,
                Parts = parts, Plan = p, X = x, Cx = cx, RootH = rh, RootC = rc,
            };
            long t0 = Trace?.Now() ?? 0;
            if (parts > 1) SplitHidden(parts, (long)p.Unique * 3 * hd * hd, leafJob);
            else Split(p.Unique, leafJob);
            Trace?.Add("leaves: GEMM + fused gates", t0, Trace.Now(), p.Unique);
            calls += 2;
            for (int i = 0; i < p.Leaves; i++)
            {
                float* h = lh + (long)p.LeafUnique[i] * hd, c = lc + (long)p.LeafUnique[i] * hd;
                if (parts == 1)
                {
                    Dest(p.LeafDest[i], x, cx, rh, rc, hd, out float* dh, out float* dc);
                    Buffer.MemoryCopy(h, dh, hd * 4, hd * 4);
                    Buffer.MemoryCopy(c, dc, hd * 4, hd * 4);
                }
                if (everyNode || p.LeafDest[i] < 0) loss += SoftmaxOutput.Loss(hd, pw, h, p.LeafLabel[i]);
            }
            copied += (long)p.Leaves * 2 * hd;
            // Internal levels, bottom up: [h_l; h_r] rows are contiguous, so each level is two strided GEMMs
            // and a fused pass; a wide level is split by rows across the pool's threads.
            var job = new LevelJob
            {
                Plan = p, Hd = hd, X = x, Cx = cx, G = g, RootH = rh, RootC = rc, Bias = nb, RowLoss = rowLoss,
                Left = _w.Left, Right = _w.Right, WoutPtr = pw, EveryNode = everyNode, Keep = keep, Parts = parts,
            };
            for (int l = 0; l < p.Levels; l++)
            {
                job.R0 = p.LevelStart[l];
                job.Count = p.LevelStart[l + 1] - job.R0;
                job.G = keep ? g + (long)job.R0 * 5 * hd : g;
                t0 = Trace?.Now() ?? 0;
                if (parts > 1) SplitHidden(parts, (long)job.Count * 8 * hd * hd, job);
                else Split(job.Count, job);
                Trace?.Add($"level {l + 2}: 2 GEMMs + fused gates", t0, Trace.Now(), job.Count);
                calls += 3;
            }
            // Split by hidden units, no thread has a whole h while its level runs: the losses follow, split by rows.
            if (parts > 1) Split(p.Rows, new LossJob { Plan = p, Hd = hd, Count = p.Rows, X = x, RootH = rh, RowLoss = rowLoss, WoutPtr = pw, EveryNode = everyNode });
            for (int r = 0; r < p.Rows; r++) loss += rowLoss[r];
        }
        KernelCalls = calls + 1;
        CellBatches = 1 + p.Levels;
        CellLowerBound = 1 + p.Levels;
        BytesCopied = copied * sizeof(float);
        return (float)loss;
    }

    /// <summary>Runs <paramref name="job"/> over <paramref name="count"/> rows: in one part, or in chunks of a multiple of 8 rows on the pool.</summary>
    private void Split<TJob>(int count, TJob job) where TJob : struct, IParallelJob, IChunked
    {
        int parts = _pool is null ? 1 : Math.Clamp(count / MinRowsPerThread, 1, _pool.Threads);
        int chunk = (count + parts - 1) / parts;
        chunk = parts == 1 ? count : (chunk + 7) & ~7;
        parts = (count + chunk - 1) / chunk;
        job.Chunk = chunk;
        if (parts <= 1) job.Execute(0);
        else _pool!.Run(parts, job);
    }

    /// <summary>Rows below which splitting a batch across threads costs more than it saves.</summary>
    private const int MinRowsPerThread = 16;

    /// <summary>Runs the <paramref name="parts"/> hidden-unit parts of <paramref name="job"/>: on the pool, or one after another when the batch is too small to pay for waking a thread.</summary>
    private void SplitHidden<TJob>(int parts, long multiplyAdds, TJob job) where TJob : struct, IParallelJob
    {
        if (_pool is not null && multiplyAdds >= MinMultiplyAddsToSplit) { _pool.Run(parts, job); return; }
        var times = PartCpuSeconds is null ? null : new double[parts];
        for (int t = 0; t < parts; t++)
        {
            double c0 = times is null ? 0 : Runtime.CpuClock.Now(1);
            job.Execute(t);
            if (times is not null) times[t] = Runtime.CpuClock.Now(1) - c0;
        }
        if (times is not null) PartCpuSeconds!.Add(times);
    }

    /// <summary>About 10 µs of one core's FMA work: below it, a handoff to another thread costs a noticeable share.</summary>
    private const long MinMultiplyAddsToSplit = 1 << 19;

    internal interface IChunked { int Chunk { get; set; } }

    private static void Dest(int slot, float* x, float* cx, float* rh, float* rc, int hd, out float* h, out float* c)
    {
        if (slot < 0)
        {
            long t = (long)(-slot - 1) * hd;
            h = rh + t; c = rc + t;
            return;
        }
        long off = (long)(slot >> 1) * 2 * hd + (slot & 1) * hd;
        h = x + off; c = cx + off;
    }

    private nint[] _rows = [];
    private nint* NativeRows(int n)
    {
        if (_rows.Length < n) _rows = GC.AllocateArray<nint>(Math.Max(Math.Max(n, 1), _rows.Length * 2), pinned: true);
        return (nint*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref _rows[0]);
    }

    private static void Grow(ref float[] a, int n)
    {
        if (a.Length < n) a = GC.AllocateUninitializedArray<float>(Math.Max(n, a.Length * 2), pinned: true);
    }
}
