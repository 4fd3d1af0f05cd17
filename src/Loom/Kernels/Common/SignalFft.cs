namespace Loom.Kernels.Common;

/// <summary>
/// A complex discrete Fourier transform of one length, planned once per run and applied to many
/// signals: radix-2 for powers of two, a direct sum for short odd lengths (exact twiddles, no
/// worse than an FFT there), and Bluestein's chirp-z algorithm (via a radix-2 FFT) for the rest,
/// so every length costs O(n log n). Computes in double. Not thread-safe (it owns scratch buffers):
/// create one per run.
/// </summary>
internal sealed class SignalFft
{
    private const int DirectLimit = 32;

    private readonly int _n;
    private readonly double[] _cos, _sin;          // twiddles e^{-2πik/n} for k < n (direct) or n/2 (radix-2)
    private readonly int[]? _bitReverse;
    private readonly SignalFft? _inner;             // Bluestein's power-of-two convolution
    private readonly double[]? _chirpRe, _chirpIm;  // e^{-πik²/n}
    private readonly double[]? _kernelRe, _kernelIm; // FFT of the conjugate chirp, zero-padded
    private readonly double[] _scratchRe, _scratchIm;

    public SignalFft(int n)
    {
        _n = n;
        if (n <= 1 || IsPowerOfTwo(n))
        {
            (_cos, _sin) = Twiddles(n, Math.Max(n / 2, 1));
            _bitReverse = BitReversal(n);
            _scratchRe = _scratchIm = [];
        }
        else if (n <= DirectLimit)
        {
            (_cos, _sin) = Twiddles(n, n);
            _scratchRe = new double[n];
            _scratchIm = new double[n];
        }
        else
        {
            int m = 1;
            while (m < 2 * n - 1) m <<= 1;
            _inner = new SignalFft(m);
            _cos = _sin = [];
            _chirpRe = new double[n];
            _chirpIm = new double[n];
            for (int k = 0; k < n; k++)
            {
                // k² mod 2n keeps the angle exact for large k.
                long k2 = (long)k * k % (2L * n);
                double angle = Math.PI * k2 / n;
                _chirpRe[k] = Math.Cos(angle);
                _chirpIm[k] = -Math.Sin(angle);
            }
            _kernelRe = new double[m];
            _kernelIm = new double[m];
            _kernelRe[0] = _chirpRe[0];
            _kernelIm[0] = -_chirpIm[0];
            for (int k = 1; k < n; k++)
            {
                _kernelRe[k] = _kernelRe[m - k] = _chirpRe[k];
                _kernelIm[k] = _kernelIm[m - k] = -_chirpIm[k];
            }
            _inner.Transform(_kernelRe, _kernelIm, inverse: false);
            _scratchRe = new double[m];
            _scratchIm = new double[m];
        }
    }

    public int Length => _n;

    /// <summary>
    /// In place: X[k] = Σ x[j] e^{∓2πijk/n}. The inverse uses e^{+…} and is not scaled (callers divide by n).
    /// </summary>
    public void Transform(Span<double> re, Span<double> im, bool inverse)
    {
        if (_n <= 1) return;
        if (_bitReverse is not null) Radix2(re, im, inverse);
        else if (_inner is null) Direct(re, im, inverse);
        else Bluestein(re, im, inverse);
    }

    private void Radix2(Span<double> re, Span<double> im, bool inverse)
    {
        int n = _n;
        for (int i = 0; i < n; i++)
        {
            int j = _bitReverse![i];
            if (j > i) { (re[i], re[j]) = (re[j], re[i]); (im[i], im[j]) = (im[j], im[i]); }
        }
        double sign = inverse ? -1 : 1;
        for (int size = 2; size <= n; size <<= 1)
        {
            int half = size / 2, step = n / size;
            for (int start = 0; start < n; start += size)
                for (int k = 0; k < half; k++)
                {
                    double wr = _cos[k * step], wi = sign * _sin[k * step];
                    int a = start + k, b = a + half;
                    double tr = re[b] * wr - im[b] * wi, ti = re[b] * wi + im[b] * wr;
                    re[b] = re[a] - tr; im[b] = im[a] - ti;
                    re[a] += tr; im[a] += ti;
                }
        }
    }

    private void Direct(Span<double> re, Span<double> im, bool inverse)
    {
        int n = _n;
        double sign = inverse ? -1 : 1;
        for (int k = 0; k < n; k++)
        {
            double sr = 0, si = 0;
            int idx = 0; // j*k mod n, kept exact
            for (int j = 0; j < n; j++)
            {
                double wr = _cos[idx], wi = sign * _sin[idx];
                sr += re[j] * wr - im[j] * wi;
                si += re[j] * wi + im[j] * wr;
                idx += k;
                if (idx >= n) idx -= n;
            }
            _scratchRe[k] = sr;
            _scratchIm[k] = si;
        }
        _scratchRe.AsSpan(0, n).CopyTo(re);
        _scratchIm.AsSpan(0, n).CopyTo(im);
    }

    // With jk = (j² + k² - (k-j)²)/2 and chirp[k] = e^{-πik²/n}: X[k] = chirp[k] · Σ_j (x[j] · chirp[j]) · conj(chirp[k - j]),
    // a convolution done with the inner power-of-two FFT. The inverse conjugates every chirp.
    private void Bluestein(Span<double> re, Span<double> im, bool inverse)
    {
        int n = _n, m = _inner!.Length;
        var ar = _scratchRe;
        var ai = _scratchIm;
        Array.Clear(ar);
        Array.Clear(ai);
        double s = inverse ? -1 : 1; // the inverse conjugates the chirp
        for (int k = 0; k < n; k++)
        {
            double cr = _chirpRe![k], ci = s * _chirpIm![k];
            ar[k] = re[k] * cr - im[k] * ci;
            ai[k] = re[k] * ci + im[k] * cr;
        }
        _inner.Transform(ar, ai, inverse: false);
        for (int k = 0; k < m; k++)
        {
            // The kernel's FFT is of conj(chirp); for the inverse we need FFT of chirp, which is the
            // conjugate of the kernel's FFT reversed: K'[k] = conj(K[-k]).
            double kr, ki;
            if (inverse) { int r = k == 0 ? 0 : m - k; kr = _kernelRe![r]; ki = -_kernelIm![r]; }
            else { kr = _kernelRe![k]; ki = _kernelIm![k]; }
            double xr = ar[k] * kr - ai[k] * ki, xi = ar[k] * ki + ai[k] * kr;
            ar[k] = xr;
            ai[k] = xi;
        }
        _inner.Transform(ar, ai, inverse: true);
        for (int k = 0; k < n; k++)
        {
            double cr = _chirpRe![k], ci = s * _chirpIm![k];
            double xr = ar[k] / m, xi = ai[k] / m;
            re[k] = xr * cr - xi * ci;
            im[k] = xr * ci + xi * cr;
        }
    }

    private static bool IsPowerOfTwo(int n) => (n & (n - 1)) == 0;

    /// <summary>cos and sin of 2πk/n for k &lt; count (sin positive: the forward transform subtracts it).</summary>
    private static (double[] Cos, double[] Sin) Twiddles(int n, int count)
    {
        var c = new double[count];
        var s = new double[count];
        for (int k = 0; k < count; k++)
        {
            double angle = 2 * Math.PI * k / n;
            c[k] = Math.Cos(angle);
            s[k] = -Math.Sin(angle);
        }
        return (c, s);
    }

    private static int[] BitReversal(int n)
    {
        var r = new int[n];
        int bits = 0;
        while ((1 << bits) < n) bits++;
        for (int i = 0; i < n; i++)
        {
            int x = i, y = 0;
            for (int b = 0; b < bits; b++) { y = (y << 1) | (x & 1); x >>= 1; }
            r[i] = y;
        }
        return r;
    }
}
