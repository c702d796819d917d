namespace Shinso.Numerics;

/// <summary>
/// The eigendecomposition <c>A = V diag(values) Vᵀ</c> of a real symmetric matrix in double precision: Householder
/// reduction to tridiagonal form, then the implicit QL algorithm with Wilkinson shifts (EISPACK's tred2 and tql2, as in
/// JAMA). O(n³); a 784 x 784 covariance takes about a second on one core.
/// </summary>
public sealed class SymmetricEigen
{
    private SymmetricEigen(double[] values, double[] vectors, int size)
    {
        Values = values;
        Vectors = vectors;
        Size = size;
    }

    /// <summary>The order of the matrix.</summary>
    public int Size { get; }

    /// <summary>The eigenvalues, largest first.</summary>
    public double[] Values { get; }

    /// <summary>The eigenvectors, row-major n x n: column j (<c>Vectors[i * n + j]</c>) belongs to <see cref="Values"/>[j]; orthonormal.</summary>
    public double[] Vectors { get; }

    /// <summary>Decomposes the symmetric n x n matrix <paramref name="matrix"/> (row-major; only its lower triangle is read).</summary>
    /// <exception cref="ArgumentException">The length is not n², or a value is not finite.</exception>
    /// <exception cref="ArithmeticException">The QL iteration did not converge (not seen on finite input).</exception>
    public static SymmetricEigen Of(ReadOnlySpan<double> matrix, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        if (matrix.Length != (long)n * n) throw new ArgumentException($"A {n} x {n} matrix has {(long)n * n} values, not {matrix.Length}.", nameof(matrix));
        foreach (double value in matrix) if (!double.IsFinite(value)) throw new ArgumentException("The matrix holds a value that is not finite.", nameof(matrix));
        // v holds the matrix and becomes the eigenvectors; d the diagonal, e the off-diagonal.
        var v = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++) v[i * n + j] = v[j * n + i] = matrix[i * n + j];
        var d = new double[n];
        var e = new double[n];
        Tridiagonalize(v, d, e, n);
        // The QL rotations combine pairs of columns: transposed, each is a contiguous row.
        var vt = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) vt[j * n + i] = v[i * n + j];
        DiagonalizeTridiagonal(vt, d, e, n);
        // Largest first: one permutation of values and columns.
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Array.Sort(order, (a, b) => d[b].CompareTo(d[a]));
        var values = new double[n];
        var vectors = new double[n * n];
        for (int j = 0; j < n; j++)
        {
            values[j] = d[order[j]];
            for (int i = 0; i < n; i++) vectors[i * n + j] = vt[order[j] * n + i];
        }
        return new SymmetricEigen(values, vectors, n);
    }

    /// <summary>Householder reduction (tred2): on return v holds the accumulated transformation, d and e the tridiagonal.</summary>
    private static void Tridiagonalize(double[] v, double[] d, double[] e, int n)
    {
        for (int j = 0; j < n; j++) d[j] = v[(n - 1) * n + j];
        for (int i = n - 1; i > 0; i--)
        {
            double scale = 0, h = 0;
            for (int k = 0; k < i; k++) scale += Math.Abs(d[k]);
            if (scale == 0)
            {
                e[i] = d[i - 1];
                for (int j = 0; j < i; j++)
                {
                    d[j] = v[(i - 1) * n + j];
                    v[i * n + j] = 0;
                    v[j * n + i] = 0;
                }
            }
            else
            {
                for (int k = 0; k < i; k++)
                {
                    d[k] /= scale;
                    h += d[k] * d[k];
                }
                double f = d[i - 1];
                double g = Math.Sqrt(h);
                if (f > 0) g = -g;
                e[i] = scale * g;
                h -= f * g;
                d[i - 1] = f - g;
                for (int j = 0; j < i; j++) e[j] = 0;
                for (int j = 0; j < i; j++)
                {
                    f = d[j];
                    v[j * n + i] = f;
                    g = e[j] + v[j * n + j] * f;
                    for (int k = j + 1; k <= i - 1; k++)
                    {
                        g += v[k * n + j] * d[k];
                        e[k] += v[k * n + j] * f;
                    }
                    e[j] = g;
                }
                f = 0;
                for (int j = 0; j < i; j++)
                {
                    e[j] /= h;
                    f += e[j] * d[j];
                }
                double hh = f / (h + h);
                for (int j = 0; j < i; j++) e[j] -= hh * d[j];
                for (int j = 0; j < i; j++)
                {
                    f = d[j];
                    g = e[j];
                    for (int k = j; k <= i - 1; k++) v[k * n + j] -= f * e[k] + g * d[k];
                    d[j] = v[(i - 1) * n + j];
                    v[i * n + j] = 0;
                }
            }
            d[i] = h;
        }
        // Accumulate the transformations.
        for (int i = 0; i < n - 1; i++)
        {
            v[(n - 1) * n + i] = v[i * n + i];
            v[i * n + i] = 1;
            double h = d[i + 1];
            if (h != 0)
            {
                for (int k = 0; k <= i; k++) d[k] = v[k * n + i + 1] / h;
                for (int j = 0; j <= i; j++)
                {
                    double g = 0;
                    for (int k = 0; k <= i; k++) g += v[k * n + i + 1] * v[k * n + j];
                    for (int k = 0; k <= i; k++) v[k * n + j] -= g * d[k];
                }
            }
            for (int k = 0; k <= i; k++) v[k * n + i + 1] = 0;
        }
        for (int j = 0; j < n; j++)
        {
            d[j] = v[(n - 1) * n + j];
            v[(n - 1) * n + j] = 0;
        }
        v[(n - 1) * n + n - 1] = 1;
        e[0] = 0;
    }

    /// <summary>Implicit QL with shifts (tql2) on the tridiagonal (d, e), applied to the transposed transformation vt.</summary>
    private static void DiagonalizeTridiagonal(double[] vt, double[] d, double[] e, int n)
    {
        for (int i = 1; i < n; i++) e[i - 1] = e[i];
        e[n - 1] = 0;
        double f = 0, tst1 = 0;
        double eps = Math.Pow(2.0, -52.0);
        for (int l = 0; l < n; l++)
        {
            tst1 = Math.Max(tst1, Math.Abs(d[l]) + Math.Abs(e[l]));
            int m = l;
            while (m < n)
            {
                if (Math.Abs(e[m]) <= eps * tst1) break;
                m++;
            }
            if (m > l)
            {
                int iterations = 0;
                do
                {
                    if (++iterations > 60) throw new ArithmeticException("The symmetric eigensolver's QL iteration did not converge.");
                    double g = d[l];
                    double p = (d[l + 1] - g) / (2 * e[l]);
                    double r = Hypot(p, 1);
                    if (p < 0) r = -r;
                    d[l] = e[l] / (p + r);
                    d[l + 1] = e[l] * (p + r);
                    double dl1 = d[l + 1];
                    double h = g - d[l];
                    for (int i = l + 2; i < n; i++) d[i] -= h;
                    f += h;
                    p = d[m];
                    double c = 1, c2 = c, c3 = c;
                    double el1 = e[l + 1];
                    double s = 0, s2 = 0;
                    for (int i = m - 1; i >= l; i--)
                    {
                        c3 = c2;
                        c2 = c;
                        s2 = s;
                        g = c * e[i];
                        h = c * p;
                        r = Hypot(p, e[i]);
                        e[i + 1] = s * r;
                        s = e[i] / r;
                        c = p / r;
                        p = c * d[i] - s * g;
                        d[i + 1] = h + s * (c * g + s * d[i]);
                        var next = vt.AsSpan((i + 1) * n, n);
                        var current = vt.AsSpan(i * n, n);
                        for (int k = 0; k < n; k++)
                        {
                            h = next[k];
                            next[k] = s * current[k] + c * h;
                            current[k] = c * current[k] - s * h;
                        }
                    }
                    p = -s * s2 * c3 * el1 * e[l] / dl1;
                    e[l] = s * p;
                    d[l] = c * p;
                } while (Math.Abs(e[l]) > eps * tst1);
            }
            d[l] += f;
            e[l] = 0;
        }
    }

    private static double Hypot(double a, double b)
    {
        a = Math.Abs(a);
        b = Math.Abs(b);
        if (a < b) (a, b) = (b, a);
        if (a == 0) return 0;
        double r = b / a;
        return a * Math.Sqrt(1 + r * r);
    }
}
