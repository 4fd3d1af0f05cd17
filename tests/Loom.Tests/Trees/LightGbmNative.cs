using System.Runtime.InteropServices;
using System.Text;

namespace Loom.Tests.Trees;

/// <summary>
/// LightGBM's C API (the native library of the LightGBM NuGet package), for training fixture models
/// and as the reference predictor. Used by the tests and, linked, by the bench; never by Loom itself.
/// </summary>
public sealed partial class LightGbmNative : IDisposable
{
    private const string Lib = "lib_lightgbm";
    private const int Float32 = 0, Float64 = 1;
    public const int PredictNormal = 0, PredictRawScore = 1;

    [LibraryImport(Lib)] private static partial int LGBM_DatasetCreateFromMat(nint data, int dataType, int rows, int cols, int rowMajor, [MarshalAs(UnmanagedType.LPUTF8Str)] string parameters, nint reference, out nint dataset);
    [LibraryImport(Lib)] private static partial int LGBM_DatasetSetField(nint dataset, [MarshalAs(UnmanagedType.LPUTF8Str)] string field, nint data, int count, int type);
    [LibraryImport(Lib)] private static partial int LGBM_DatasetFree(nint dataset);
    [LibraryImport(Lib)] private static partial int LGBM_BoosterCreate(nint dataset, [MarshalAs(UnmanagedType.LPUTF8Str)] string parameters, out nint booster);
    [LibraryImport(Lib)] private static partial int LGBM_BoosterUpdateOneIter(nint booster, out int finished);
    [LibraryImport(Lib)] private static partial int LGBM_BoosterSaveModelToString(nint booster, int startIteration, int numIteration, int importanceType, long bufferLength, out long outLength, nint buffer);
    [LibraryImport(Lib)] private static partial int LGBM_BoosterLoadModelFromString([MarshalAs(UnmanagedType.LPUTF8Str)] string model, out int iterations, out nint booster);
    [LibraryImport(Lib)] private static partial int LGBM_BoosterPredictForMat(nint booster, nint data, int dataType, int rows, int cols, int rowMajor, int predictType, int startIteration, int numIteration, [MarshalAs(UnmanagedType.LPUTF8Str)] string parameters, out long outLength, nint result);
    [LibraryImport(Lib)] private static partial int LGBM_BoosterPredictForMatSingleRowFastInit(nint booster, int predictType, int startIteration, int numIteration, int dataType, int cols, [MarshalAs(UnmanagedType.LPUTF8Str)] string parameters, out nint config);
    [LibraryImport(Lib)] private static partial int LGBM_BoosterPredictForMatSingleRowFast(nint config, nint row, out long outLength, nint result);
    [LibraryImport(Lib)] private static partial int LGBM_FastConfigFree(nint config);
    [LibraryImport(Lib)] private static partial int LGBM_BoosterFree(nint booster);
    [LibraryImport(Lib)] private static partial nint LGBM_GetLastError();

    private nint _booster;
    private nint _fast;

    private LightGbmNative(nint booster) => _booster = booster;

    private static void Check(int rc)
    {
        if (rc != 0) throw new InvalidOperationException("LightGBM: " + Marshal.PtrToStringUTF8(LGBM_GetLastError()));
    }

    /// <summary>Trains on row-major float data; <paramref name="parameters"/> as LightGBM's "key=value key=value".</summary>
    public static unsafe LightGbmNative Train(float[] x, float[] labels, int rows, int cols, string parameters, int iterations, string datasetParameters = "")
    {
        nint dataset;
        fixed (float* px = x) Check(LGBM_DatasetCreateFromMat((nint)px, Float32, rows, cols, 1, datasetParameters + " " + parameters, 0, out dataset));
        try
        {
            fixed (float* pl = labels) Check(LGBM_DatasetSetField(dataset, "label", (nint)pl, rows, Float32));
            Check(LGBM_BoosterCreate(dataset, parameters, out var booster));
            var model = new LightGbmNative(booster);
            for (int i = 0; i < iterations; i++)
            {
                Check(LGBM_BoosterUpdateOneIter(booster, out int finished));
                if (finished != 0) break;
            }
            // Reload from text so prediction uses exactly the saved model (and the dataset can go).
            var text = model.ModelText();
            model.Dispose();
            return Load(text);
        }
        finally { LGBM_DatasetFree(dataset); }
    }

    public static LightGbmNative Load(string modelText)
    {
        Check(LGBM_BoosterLoadModelFromString(modelText, out _, out var booster));
        return new LightGbmNative(booster);
    }

    public unsafe string ModelText()
    {
        Check(LGBM_BoosterSaveModelToString(_booster, 0, -1, 0, 0, out long length, 0));
        var buffer = new byte[length];
        fixed (byte* p = buffer) Check(LGBM_BoosterSaveModelToString(_booster, 0, -1, 0, length, out length, (nint)p));
        return Encoding.UTF8.GetString(buffer, 0, (int)length - 1);
    }

    /// <summary>LightGBM's predictions (probabilities for classifiers) for row-major float rows; <paramref name="outputsPerRow"/> per row.</summary>
    public unsafe double[] Predict(float[] x, int rows, int cols, int outputsPerRow, int numIteration = -1, int predictType = PredictNormal, string parameters = "")
    {
        var result = new double[(long)rows * outputsPerRow];
        fixed (float* px = x)
        fixed (double* pr = result)
            Check(LGBM_BoosterPredictForMat(_booster, (nint)px, Float32, rows, cols, 1, predictType, 0, numIteration, parameters, out _, (nint)pr));
        return result;
    }

    /// <summary>LightGBM's fastest single-row path (configuration prepared once).</summary>
    public unsafe void PredictOne(float* row, int cols, double* result, string parameters = "")
    {
        if (_fast == 0) Check(LGBM_BoosterPredictForMatSingleRowFastInit(_booster, PredictNormal, 0, -1, Float32, cols, parameters, out _fast));
        Check(LGBM_BoosterPredictForMatSingleRowFast(_fast, (nint)row, out _, (nint)result));
    }

    public void Dispose()
    {
        if (_fast != 0) { LGBM_FastConfigFree(_fast); _fast = 0; }
        if (_booster != 0) { LGBM_BoosterFree(_booster); _booster = 0; }
    }
}
