using Loom.Kernels.Common;

namespace Loom.Dynamic.Cells;

/// <summary>Per-thread working memory of cell kernels (GEMM outputs of a row chunk, per-row locals, pointer tables), pinned and grown on demand.</summary>
internal sealed unsafe class CellScratch
{
    [ThreadStatic] private static CellScratch? _forThread;
    public static CellScratch ForThread => _forThread ??= new CellScratch();

    private Buffer _c, _row, _temp, _ptrs;

    public float* C(int floats) => _c.Get(floats);
    public float* Row(int floats) => _row.Get(floats);
    public float* Temp(int floats) => _temp.Get(floats);
    public float** Pointers(int count) => (float**)_ptrs.Get(count * 2);

    private struct Buffer
    {
        private float[]? _array;
        private float* _ptr;
        private int _capacity;

        public float* Get(int floats)
        {
            if (floats > _capacity)
            {
                _capacity = Math.Max(floats, _capacity * 2);
                _array = GC.AllocateUninitializedArray<float>(_capacity + 16, pinned: true);
                _ptr = GemmScratch.AlignedPointer(_array);
            }
            return _ptr;
        }
    }
}
