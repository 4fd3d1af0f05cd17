using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Lowering.Trees;

/// <summary>The interleaved walk's step rules: plain ≤ forests, and forests with category sets.</summary>
public sealed unsafe partial class InterleavedProgram
{
    /// <summary>One step of a walk: the next slot index from the current one.</summary>
    private interface IStepRule
    {
        static abstract int Scalar(Slot* s, float* row, uint* bits);
        static abstract Vector256<int> Vector(int* ints, float* floats, uint* bits, float* rows, Vector256<int> rowOffset, Vector256<int> idx);
    }

    /// <summary>Every node a ≤ test (the common case; no category check in the loop).</summary>
    private struct LeqRule : IStepRule
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Scalar(Slot* s, float* row, uint* bits)
        {
            int f = s->Feature;
            float v = row[f & FeatureMask];
            // left when v <= threshold, or v is NaN and the node sends NaN left (flag in f's sign bit).
            int left = (v <= s->Threshold ? 1 : 0) | ((float.IsNaN(v) ? 1 : 0) & (int)((uint)f >> 31));
            return s->Left + 1 - left;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Vector(int* ints, float* floats, uint* bits, float* rows, Vector256<int> rowOffset, Vector256<int> idx)
        {
            var at = Avx2.ShiftLeftLogical(idx, 2);
            var feature = Avx2.GatherVector256(ints, at, 4);
            var threshold = Avx2.GatherVector256(floats + 1, at, 4);
            var left = Avx2.GatherVector256(ints + 2, at, 4);
            var x = Avx2.GatherVector256(rows, Avx2.Add(rowOffset, Avx2.And(feature, Vector256.Create(FeatureMask))), 4);
            // all-ones where the row goes left: x <= threshold, or x is NaN and the node's flag (sign bit) is set
            var goLeft = Avx.Or(Avx.CompareLessThanOrEqual(x, threshold), Avx.And(Avx.CompareUnordered(x, x), Avx2.ShiftRightArithmetic(feature, 31).AsSingle())).AsInt32();
            return Avx2.Add(Avx2.Add(left, Vector256<int>.One), goLeft);
        }
    }

    /// <summary>
    /// ≤ tests and category sets: a set node sends x left when x is an integer in the set (exactly the
    /// ONNX-ML BRANCH_MEMBER test), or x is NaN and the node sends NaN left.
    /// </summary>
    private struct MixedRule : IStepRule
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Scalar(Slot* s, float* row, uint* bits)
        {
            int f = s->Feature;
            float v = row[f & FeatureMask];
            int nanLeft = (float.IsNaN(v) ? 1 : 0) & (int)((uint)f >> 31);
            if ((f & CategoryFlag) == 0) return s->Left + 1 - ((v <= s->Threshold ? 1 : 0) | nanLeft);
            int c = (int)v, offset = BitConverter.SingleToInt32Bits(s->Threshold);
            bool member = v >= 0 && c == v && c < s->Leaf * 32 && (bits[offset + (c >> 5)] >> (c & 31) & 1) != 0;
            return s->Left + 1 - ((member ? 1 : 0) | nanLeft);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Vector(int* ints, float* floats, uint* bits, float* rows, Vector256<int> rowOffset, Vector256<int> idx)
        {
            var at = Avx2.ShiftLeftLogical(idx, 2);
            var feature = Avx2.GatherVector256(ints, at, 4);
            var threshold = Avx2.GatherVector256(floats + 1, at, 4);
            var left = Avx2.GatherVector256(ints + 2, at, 4);
            var x = Avx2.GatherVector256(rows, Avx2.Add(rowOffset, Avx2.And(feature, Vector256.Create(FeatureMask))), 4);
            var nanLeft = Avx.And(Avx.CompareUnordered(x, x), Avx2.ShiftRightArithmetic(feature, 31).AsSingle()).AsInt32();
            var leq = Avx.CompareLessThanOrEqual(x, threshold).AsInt32();
            // Category lanes: x must be an integer in [0, words·32) whose bit is set.
            var isSet = Avx2.ShiftRightArithmetic(Avx2.ShiftLeftLogical(feature, 1), 31);
            var words = Avx2.GatherVector256(ints + 3, at, 4);
            var c = Avx.ConvertToVector256Int32WithTruncation(x);
            var valid = Avx2.And(Avx2.And(Avx2.CompareGreaterThan(c, Vector256.Create(-1)), Avx2.CompareGreaterThan(Avx2.ShiftLeftLogical(words, 5), c)),
                Avx.CompareEqual(Avx.ConvertToVector256Single(c), x).AsInt32());
            var word = Avx2.GatherMaskVector256(Vector256<int>.Zero, (int*)bits, Avx2.Add(threshold.AsInt32(), Avx2.ShiftRightArithmetic(c, 5)), Avx2.And(valid, isSet), 4);
            var bit = Avx2.ShiftRightLogicalVariable(word.AsUInt32(), Avx2.And(c, Vector256.Create(31)).AsUInt32()).AsInt32();
            var member = Avx2.And(valid, Avx2.CompareEqual(Avx2.And(bit, Vector256<int>.One), Vector256<int>.One));
            var goLeft = Avx2.Or(Avx2.Or(Avx2.And(isSet, member), Avx2.AndNot(isSet, leq)), nanLeft);
            return Avx2.Add(Avx2.Add(left, Vector256<int>.One), goLeft);
        }
    }
}
