using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>NonMaxSuppression (opsets 10, 11): greedy per-class selection by score, dropping boxes that overlap a selected one.</summary>
[KernelRegistrations]
internal static class DetectionNmsKernels
{
    public static void Register(KernelRegistry r) => r.Add("NonMaxSuppression", info =>
    {
        long centerPointBox = info.GetInt("center_point_box", 0);
        if (centerPointBox is not (0 or 1)) throw info.Fail($"center_point_box must be 0 or 1, got {centerPointBox}");
        return new NmsKernel(centerPointBox == 1);
    }, 10);

    private sealed class NmsKernel(bool centerPointBox) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var boxesT = ctx.Input(0);
            var scoresT = ctx.Input(1);
            if (boxesT.Rank != 3 || boxesT.Dims[2] != 4) throw ctx.Fail($"boxes has shape {ShapeMath.Format(boxesT.Shape)}; expected (batches, boxes, 4)");
            if (scoresT.Rank != 3 || scoresT.Dims[0] != boxesT.Dims[0] || scoresT.Dims[2] != boxesT.Dims[1])
                throw ctx.Fail($"scores has shape {ShapeMath.Format(scoresT.Shape)}; expected ({boxesT.Dims[0]}, classes, {boxesT.Dims[1]})");
            long maxPerClass = FirstOrNull(ctx.OptionalInput(2)) is { } m ? Math.Max((long)m, 0) : 0;
            float iouThreshold = (float)(FirstOrNull(ctx.OptionalInput(3)) ?? 0);
            double? scoreThreshold = FirstOrNull(ctx.OptionalInput(4));
            if (iouThreshold < 0 || iouThreshold > 1) throw ctx.Fail($"iou_threshold {iouThreshold} must be in [0, 1]");

            // ONNX Runtime and the reference compare in float32; so does this kernel, to agree at the thresholds.
            var boxes = ToFloats(boxesT);
            var scores = ToFloats(scoresT);
            int batches = boxesT.Dims[0], numBoxes = boxesT.Dims[1], classes = scoresT.Dims[1];
            var corners = new float[boxes.Length];
            for (int i = 0; i < boxes.Length / 4; i++) ToCorners(boxes.AsSpan(i * 4, 4), corners.AsSpan(i * 4, 4));

            var selected = new List<(long Batch, long Class, long Box)>();
            var candidates = new List<int>(numBoxes);
            var kept = new List<int>();
            for (int b = 0; b < batches; b++)
                for (int c = 0; c < classes; c++)
                {
                    var classScores = scores.AsSpan((b * classes + c) * numBoxes, numBoxes);
                    candidates.Clear();
                    for (int i = 0; i < numBoxes; i++)
                        if (scoreThreshold is not { } t || classScores[i] > (float)t) candidates.Add(i);
                    // Highest score first; equal scores keep the lower box index first.
                    var sc = classScores.ToArray();
                    candidates.Sort((i, j) => sc[j].CompareTo(sc[i]) is var byScore && byScore != 0 ? byScore : i.CompareTo(j));
                    kept.Clear();
                    foreach (int i in candidates)
                    {
                        if (kept.Count >= maxPerClass) break;
                        var bi = corners.AsSpan((b * numBoxes + i) * 4, 4);
                        bool suppressed = false;
                        foreach (int k in kept)
                            if (Overlaps(bi, corners.AsSpan((b * numBoxes + k) * 4, 4), iouThreshold)) { suppressed = true; break; }
                        if (suppressed) continue;
                        kept.Add(i);
                        selected.Add((b, c, i));
                    }
                }

            var y = ctx.AllocateOutput(0, DataType.Int64, [selected.Count, 3]);
            var dst = y.AsSpan<long>();
            for (int i = 0; i < selected.Count; i++)
                (dst[i * 3], dst[i * 3 + 1], dst[i * 3 + 2]) = selected[i];
        }

        /// <summary>(y_min, x_min, y_max, x_max) whatever the box format and corner order.</summary>
        private void ToCorners(ReadOnlySpan<float> box, Span<float> r)
        {
            if (centerPointBox)
            {
                // [x_center, y_center, width, height]
                float hw = box[2] / 2, hh = box[3] / 2;
                (r[0], r[1], r[2], r[3]) = (box[1] - hh, box[0] - hw, box[1] + hh, box[0] + hw);
            }
            else
                (r[0], r[1], r[2], r[3]) = (Math.Min(box[0], box[2]), Math.Min(box[1], box[3]), Math.Max(box[0], box[2]), Math.Max(box[1], box[3]));
        }

        private static bool Overlaps(ReadOnlySpan<float> a, ReadOnlySpan<float> b, float iouThreshold)
        {
            float xMin = Math.Max(a[1], b[1]), xMax = Math.Min(a[3], b[3]);
            if (xMax <= xMin) return false;
            float yMin = Math.Max(a[0], b[0]), yMax = Math.Min(a[2], b[2]);
            if (yMax <= yMin) return false;
            float intersection = (xMax - xMin) * (yMax - yMin);
            float areaA = (a[3] - a[1]) * (a[2] - a[0]), areaB = (b[3] - b[1]) * (b[2] - b[0]);
            float union = areaA + areaB - intersection;
            if (intersection <= 0 || areaA <= 0 || areaB <= 0 || union <= 0) return false;
            return intersection / union > iouThreshold;
        }

        private static double? FirstOrNull(Tensor? t) => t is { Length: > 0 } ? t.GetDouble(0) : null;

        private static float[] ToFloats(Tensor t) => t.DataType == DataType.Float ? t.ToArray<float>() : Array.ConvertAll(ImageNumerics.ToDoubles(t), v => (float)v);
    }
}
