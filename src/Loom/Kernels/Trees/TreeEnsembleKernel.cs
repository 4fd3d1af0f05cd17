using System.Buffers;
using Loom.Lowering.Trees;
using Loom.Runtime;
using Loom.Runtime.Threading;

namespace Loom.Kernels.Trees;

/// <summary>
/// The fast float32 kernel of TreeEnsembleRegressor, TreeEnsembleClassifier (opsets 1-4) and
/// TreeEnsemble (opset 5). The node is compiled once into <see cref="TreeProgram"/>s (the lowering
/// strategies; the session's <see cref="LoomSessionOptions.TreeStrategy"/> forces one, Auto lets
/// <see cref="StrategyHeuristic"/> pick per batch). A run splits rows across the worker pool (or, for
/// a batch too small to split, the trees), finds leaves, then aggregates with <see cref="TreeScoring"/>.
/// The strategies run as this one fused kernel rather than as chains of generic Gather/Where/MatMul
/// nodes, which would allocate and re-read the [rows × trees] index tensor once per tree level.
/// </summary>
[KernelRegistrations]
internal sealed class TreeEnsembleKernel : Kernel
{
    private const string MlDomain = "ai.onnx.ml";

    public static void Register(KernelRegistry r)
    {
        DataType[] floats = [DataType.Float];
        r.Add("TreeEnsembleRegressor", info => new TreeEnsembleKernel(info), 1, 4, MlDomain, floats, priority: 1);
        r.Add("TreeEnsembleClassifier", info => new TreeEnsembleKernel(info), 1, 4, MlDomain, floats, priority: 1);
        r.Add("TreeEnsemble", info => new TreeEnsembleKernel(info), 5, domain: MlDomain, types: floats, priority: 1);
    }

    private readonly TreeEnsembleSpec _spec;
    private readonly FlatForest _forest;
    private readonly TreeScoring _scoring;
    private readonly TreeStrategy _forced;
    private readonly Lazy<TreeProgram>[] _programs;

    private TreeEnsembleKernel(KernelInfo info)
    {
        _spec = TreeEnsembleParser.Parse(info.Node, info.Fail);
        if (_spec.Classifier is { Count: < 2 }) throw info.Unsupported("a tree classifier needs at least two class labels");
        _forest = FlatForest.From(_spec);
        _scoring = new TreeScoring(_spec);
        _forced = info.Options.TreeStrategy;
        if (_forced != TreeStrategy.Auto && !StrategyHeuristic.Applies(_forced, _forest))
            throw info.Unsupported($"tree strategy {_forced} cannot compile this ensemble ({_forest.TreeCount} trees, depth {_forest.MaxDepth})");
        _programs = Enum.GetValues<TreeStrategy>().Select(s => new Lazy<TreeProgram>(() => StrategyHeuristic.Compile(s, _forest))).ToArray();
    }

    /// <summary>The program a batch of <paramref name="rows"/> runs with.</summary>
    internal TreeProgram ProgramFor(int rows) =>
        _programs[(int)(_forced != TreeStrategy.Auto ? _forced : StrategyHeuristic.Pick(_forest, rows))].Value;

    public override void Run(KernelContext ctx)
    {
        var x = ctx.Input(0);
        if (x.Rank is not (1 or 2)) throw ctx.Fail($"X has shape {ShapeMath.Format(x.Shape)}; expected [N, F]");
        int rows = x.Rank == 1 ? 1 : x.Dims[0], features = x.Dims[^1];
        if (_spec.MaxFeature >= features) throw ctx.Fail($"the trees read feature {_spec.MaxFeature} but X has {features}");
        int width = _scoring.OutputWidth;
        bool classifier = _scoring.IsClassifier;
        var z = ctx.AllocateOutput(classifier ? 1 : 0, DataType.Float, [rows, width]);
        long[]? labels = classifier ? new long[rows] : null;
        if (rows > 0)
        {
            var job = new Job(this, ProgramFor(rows), x, z, labels, rows, features);
            int threads = ctx.Pool.Threads;
            if (rows >= 16 * threads || threads == 1 || _forest.TreeCount < 16)
            {
                job.Block = Math.Clamp((rows + 4 * threads - 1) / (4 * threads), 8, 64);
                ctx.Pool.Run((rows + job.Block - 1) / job.Block, job);
            }
            else
            {
                // A small batch: split the trees, then aggregate on this thread.
                int parts = Math.Min(2 * threads, _forest.TreeCount / 8);
                job.Leaves = ArrayPool<int>.Shared.Rent(rows * _forest.TreeCount);
                job.TreeChunk = (_forest.TreeCount + parts - 1) / parts;
                ctx.Pool.Run(parts, job);
                job.Finish(job.Leaves, 0, rows);
                ArrayPool<int>.Shared.Return(job.Leaves);
            }
        }
        if (classifier) WriteLabels(ctx, labels!, rows);
    }

    private void WriteLabels(KernelContext ctx, long[] labels, int rows)
    {
        var c = _spec.Classifier!;
        if (c.StringLabels is { } names)
        {
            var y = ctx.AllocateOutput(0, DataType.String, [rows]);
            var span = y.AsSpan<string>();
            for (int r = 0; r < rows; r++) span[r] = names[labels[r]];
        }
        else labels.CopyTo(ctx.AllocateOutput(0, DataType.Int64, [rows]).AsSpan<long>());
    }

    /// <summary>One run's work: by row blocks (<see cref="Block"/> &gt; 0) or by tree chunks into a shared leaf matrix.</summary>
    private struct Job(TreeEnsembleKernel kernel, TreeProgram program, Tensor x, Tensor z, long[]? labels, int rows, int features) : IParallelJob
    {
        public int Block;
        public int TreeChunk;
        public int[]? Leaves;

        public readonly void Execute(int part)
        {
            int trees = kernel._forest.TreeCount;
            var xs = x.AsReadOnlySpan<float>();
            if (Block > 0)
            {
                int start = part * Block, end = Math.Min(rows, start + Block);
                if (kernel._scoring.TreeTargets is { } targets)
                {
                    // Fused: leaf values added straight into per-target sums, no leaf matrix.
                    int width = kernel._scoring.OutputWidth, n = end - start;
                    var sums = ArrayPool<double>.Shared.Rent(width * n);
                    try
                    {
                        Array.Clear(sums, 0, width * n);
                        if (program.Accumulate(xs, features, start, end, targets, sums, n))
                        {
                            FinishSums(sums, start, end);
                            return;
                        }
                    }
                    finally { ArrayPool<double>.Shared.Return(sums); }
                }
                var leaves = ArrayPool<int>.Shared.Rent((end - start) * trees);
                try
                {
                    program.Leaves(xs, features, start, end, 0, trees, leaves, trees);
                    Finish(leaves, start, end);
                }
                finally { ArrayPool<int>.Shared.Return(leaves); }
                return;
            }
            int t0 = part * TreeChunk, t1 = Math.Min(trees, t0 + TreeChunk);
            if (t0 < t1) program.Leaves(xs, features, 0, rows, t0, t1, Leaves.AsSpan(t0), trees);
        }

        /// <summary>Finishes rows [start, end) from per-target sums (<c>sums[target * (end - start) + row - start]</c>).</summary>
        public readonly void FinishSums(double[] sums, int start, int end)
        {
            var scoring = kernel._scoring;
            int width = scoring.OutputWidth, n = end - start;
            Span<double> scores = width <= 64 ? stackalloc double[width] : new double[width];
            Span<double> outRow = width <= 64 ? stackalloc double[width] : new double[width];
            Span<bool> has = width <= 64 ? stackalloc bool[width] : new bool[width];
            var zs = z.AsSpan<float>();
            for (int r = start; r < end; r++)
            {
                for (int k = 0; k < width; k++) scores[k] = sums[k * n + r - start];
                scoring.TargetHasTree.CopyTo(has);
                long label = scoring.Finish(scores, has, outRow);
                if (labels is not null) labels[r] = label;
                for (int k = 0; k < width; k++) zs[r * width + k] = (float)outRow[k];
            }
        }

        /// <summary>Aggregates rows [start, end) whose leaves are <paramref name="leaves"/> (row-major, one column per tree, from row <paramref name="start"/>).</summary>
        public readonly void Finish(int[] leaves, int start, int end)
        {
            var scoring = kernel._scoring;
            int trees = kernel._forest.TreeCount, width = scoring.OutputWidth;
            Span<double> scores = width <= 64 ? stackalloc double[width] : new double[width];
            Span<double> outRow = width <= 64 ? stackalloc double[width] : new double[width];
            Span<bool> has = width <= 64 ? stackalloc bool[width] : new bool[width];
            var zs = z.AsSpan<float>();
            for (int r = start; r < end; r++)
            {
                scoring.Aggregate(leaves.AsSpan((r - start) * trees, trees), scores, has);
                long label = scoring.Finish(scores, has, outRow);
                if (labels is not null) labels[r] = label;
                for (int k = 0; k < width; k++) zs[r * width + k] = (float)outRow[k];
            }
        }
    }
}
