using Loom.Kernels.Common;
using Loom.Kernels.Trees;
using Loom.Lowering.Trees;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>
/// ai.onnx.ml TreeEnsembleRegressor, TreeEnsembleClassifier (opsets 1-4) and TreeEnsemble (opset 5) for
/// any numeric input: each row walks each tree comparing in double, then <see cref="TreeScoring"/>
/// aggregates as ONNX Runtime does. Float32 inputs get the fast <see cref="TreeEnsembleKernel"/>; this
/// one is the definition it is tested against.
/// </summary>
[KernelRegistrations]
internal static class MlTreeEnsembleKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("TreeEnsembleRegressor", info => new ReferenceKernel(info), 1, 4, MlBasicKernels.Domain);
        r.Add("TreeEnsembleClassifier", info => new ReferenceKernel(info), 1, 4, MlBasicKernels.Domain);
        r.Add("TreeEnsemble", info => new ReferenceKernel(info), 5, domain: MlBasicKernels.Domain);
    }

    private sealed class ReferenceKernel : Kernel
    {
        private readonly TreeEnsembleSpec _spec;
        private readonly TreeScoring _scoring;
        private readonly bool _outputLikeInput; // TreeEnsemble (5) answers in X's dtype; the older ops in float

        public ReferenceKernel(KernelInfo info)
        {
            _spec = TreeEnsembleParser.Parse(info.Node, info.Fail);
            if (_spec.Classifier is { Count: < 2 }) throw info.Unsupported("a tree classifier needs at least two class labels");
            _spec.TreeDepths(); // rejects cycles at load
            _scoring = new TreeScoring(_spec);
            _outputLikeInput = info.Node.OpType == "TreeEnsemble";
        }

        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            if (x.Rank is not (1 or 2)) throw ctx.Fail($"X has shape {ShapeMath.Format(x.Shape)}; expected [N, F]");
            if (!ImageNumerics.IsNumeric(x.DataType)) throw ctx.Fail($"X is {x.DataType.Name()}; expected numbers");
            if (_outputLikeInput && !x.DataType.IsFloatingPoint()) throw ctx.Fail($"X is {x.DataType.Name()}; expected a float type");
            int rows = x.Rank == 1 ? 1 : x.Dims[0], features = x.Dims[^1];
            if (_spec.MaxFeature >= features) throw ctx.Fail($"the trees read feature {_spec.MaxFeature} but X has {features}");
            var data = ImageNumerics.ToDoubles(x);
            int width = _scoring.OutputWidth;
            bool classifier = _spec.Classifier is not null;
            var result = new double[rows * width];
            var labels = new long[rows];
            var leaves = new int[_spec.TreeCount];
            var scores = new double[width];
            var has = new bool[width];
            for (int r = 0; r < rows; r++)
            {
                var row = data.AsSpan(r * features, features);
                for (int t = 0; t < leaves.Length; t++) leaves[t] = _spec.Leaf(row, _spec.Roots[t]);
                _scoring.Aggregate(leaves, scores, has);
                labels[r] = _scoring.Finish(scores, has, result.AsSpan(r * width, width));
            }
            ImageNumerics.Store(result, ctx.AllocateOutput(classifier ? 1 : 0, _outputLikeInput ? x.DataType : DataType.Float, [rows, width]));
            if (!classifier) return;
            if (_spec.Classifier!.StringLabels is { } names)
            {
                var y = ctx.AllocateOutput(0, DataType.String, [rows]).AsSpan<string>();
                for (int r = 0; r < rows; r++) y[r] = names[labels[r]];
            }
            else labels.CopyTo(ctx.AllocateOutput(0, DataType.Int64, [rows]).AsSpan<long>());
        }
    }
}
