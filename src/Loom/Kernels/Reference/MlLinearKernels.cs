using Loom.Kernels.Common;
using Loom.Kernels.Trees;
using Loom.Lowering.Trees;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>ai.onnx.ml LinearRegressor and LinearClassifier: X·Wᵀ + b, then ONNX Runtime's post transforms and labels.</summary>
[KernelRegistrations]
internal static class MlLinearKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("LinearRegressor", info => new LinearKernel(info, classifier: false), 1, domain: MlBasicKernels.Domain);
        r.Add("LinearClassifier", info => new LinearKernel(info, classifier: true), 1, domain: MlBasicKernels.Domain);
    }

    private static PostTransform Post(KernelInfo info) => info.GetString("post_transform", "NONE") switch
    {
        "NONE" => PostTransform.None, "SOFTMAX" => PostTransform.Softmax, "LOGISTIC" => PostTransform.Logistic,
        "SOFTMAX_ZERO" => PostTransform.SoftmaxZero, "PROBIT" => PostTransform.Probit,
        var p => throw info.Fail($"post_transform '{p}' is not one of NONE, SOFTMAX, LOGISTIC, SOFTMAX_ZERO, PROBIT"),
    };

    private sealed class LinearKernel : Kernel
    {
        private readonly double[] _w, _b;
        private readonly int _targets;
        private readonly PostTransform _post;
        private readonly bool _classifier;
        private readonly long[]? _intLabels;
        private readonly string[]? _stringLabels;

        public LinearKernel(KernelInfo info, bool classifier)
        {
            _classifier = classifier;
            _w = info.GetFloats("coefficients")?.Select(f => (double)f).ToArray() ?? throw info.Fail("coefficients is required");
            _b = info.GetFloats("intercepts")?.Select(f => (double)f).ToArray() ?? [];
            _post = Post(info);
            if (classifier)
            {
                _targets = _b.Length;
                _intLabels = info.GetInts("classlabels_ints")?.ToArray();
                _stringLabels = info.Node.GetAttribute("classlabels_strings")?.AsStrings().ToArray();
                if (_targets == 0) throw info.Fail("intercepts is required (one per class score)");
            }
            else
            {
                _targets = (int)info.GetInt("targets", 1);
                if (_b.Length != 0 && _b.Length != _targets) throw info.Fail($"intercepts has {_b.Length} values for {_targets} targets");
            }
            if (_targets < 1 || _w.Length % _targets != 0) throw info.Fail($"coefficients has {_w.Length} values, not a multiple of {_targets} targets");
        }

        /// <summary>ONNX Runtime's binary classifier: one score, two labels → columns [1 - s, s].</summary>
        private bool SecondClass => _classifier && _targets == 1 && (_stringLabels?.Length ?? _intLabels?.Length) == 2;

        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            if (x.Rank is not (1 or 2)) throw ctx.Fail($"X has shape {ShapeMath.Format(x.Shape)}; expected [C] or [N, C]");
            int rows = x.Rank == 1 ? 1 : x.Dims[0], cols = x.Dims[^1];
            if (cols * _targets != _w.Length) throw ctx.Fail($"X has {cols} features; the coefficients are for {_w.Length / _targets}");
            var v = ImageNumerics.ToDoubles(x);
            int width = SecondClass ? 2 : _targets;
            var z = ctx.AllocateOutput(_classifier ? 1 : 0, DataType.Float, [rows, width]).AsSpan<float>();
            var labels = new long[rows];
            var s = new double[_targets];
            var o = new double[_targets];
            for (int r = 0; r < rows; r++)
            {
                for (int t = 0; t < _targets; t++)
                {
                    double sum = _b.Length > 0 ? _b[t] : 0;
                    for (int c = 0; c < cols; c++) sum += v[r * cols + c] * _w[t * cols + c];
                    s[t] = (float)sum;
                }
                if (_targets == 1)
                {
                    labels[r] = s[0] > 0 ? 1 : 0;
                    if (_post == PostTransform.Probit) z[r * width] = (float)TreeScoring.Probit(s[0]);
                    else if (SecondClass) (z[r * 2], z[r * 2 + 1]) = ((float)(1 - s[0]), (float)s[0]);
                    else z[r] = (float)s[0];
                    continue;
                }
                int best = 0;
                for (int t = 1; t < _targets; t++) if (s[t] > s[best]) best = t;
                labels[r] = best;
                TreeScoring.Transform(_post, s, o);
                for (int t = 0; t < _targets; t++) z[r * width + t] = (float)o[t];
            }
            if (!_classifier) return;
            // Binary without two labels: ONNX Runtime answers 1/0 ("1"/"0").
            if (_stringLabels is { Length: > 0 } names)
            {
                var y = ctx.AllocateOutput(0, DataType.String, [rows]).AsSpan<string>();
                for (int r = 0; r < rows; r++)
                    y[r] = _targets == 1 && names.Length != 2 ? (labels[r] == 1 ? "1" : "0") : names[labels[r]];
            }
            else
            {
                var y = ctx.AllocateOutput(0, DataType.Int64, [rows]).AsSpan<long>();
                for (int r = 0; r < rows; r++)
                    y[r] = _targets == 1 && _intLabels is not { Length: 2 } ? labels[r] : _intLabels![labels[r]];
            }
        }
    }
}
