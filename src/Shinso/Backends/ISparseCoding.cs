using Shinso.Tensors;

namespace Shinso.Backends;

/// <summary>
/// The elementwise and per-row passes of batch FISTA for the lasso codes of sparse coding (Beck &amp; Teboulle 2009), with the
/// monotone acceptance that keeps every row's objective from rising, and the square-root pooling of topographic ICA. One capability
/// of an <see cref="IBackend"/>.
/// </summary>
/// <remarks>
/// Rows are samples, columns atoms. With the Gram matrix <c>G = D Dᵀ</c> and the correlations <c>B = X Dᵀ</c>, the smooth part of a
/// row's objective is <c>½‖x − D h‖² = ½‖x‖² + h·(½ hG − b)</c>; the passes carry <c>P = H G</c> beside each iterate, so the gradient at
/// the extrapolated point is a combination of products already made and an iteration needs one GEMM.
/// </remarks>
public interface ISparseCoding
{
    /// <summary>
    /// The proximal gradient step from the extrapolated point, into <paramref name="previous"/>:
    /// with <c>m = momentum[i]</c>, <c>y = h + m (h − h')</c> and <c>g = (P + m (P − P')) − B</c> (the gradient at y),
    /// <c>previous[i, j] = soft(y − step·g, threshold)</c>, <c>soft(u, τ) = u − clamp(u, −τ, τ)</c>.
    /// </summary>
    /// <param name="current">The iterate <c>H</c>, [rows, atoms].</param>
    /// <param name="previous">The iterate before it <c>H'</c>; overwritten with the new candidate.</param>
    /// <param name="product"><c>H G</c>.</param>
    /// <param name="previousProduct"><c>H' G</c>.</param>
    /// <param name="correlation"><c>B = X Dᵀ</c>.</param>
    /// <param name="momentum">Each row's extrapolation weight, [rows].</param>
    /// <param name="step">The step <c>1/L</c>, L the Lipschitz constant of the gradient (the largest eigenvalue of G).</param>
    /// <param name="threshold"><c>λ/L</c>.</param>
    void ShrinkageStep(Tensor current, Tensor previous, Tensor product, Tensor previousProduct, Tensor correlation, Tensor momentum,
        float step, float threshold);

    /// <summary>
    /// Per row, the objective <c>f = z·(½ p_z − b) + λ‖z‖₁</c> of the candidate (the lasso objective less <c>½‖x‖²</c>); where it is not above
    /// <c>objective[i]</c> (up to a relative 1e-6, the noise of single-precision sums) the candidate is accepted: <c>objective[i] = f</c>, and FISTA's <c>t' = (1 + √(1 + 4t²))/2</c> sets
    /// <c>momentum[i] = (t − 1)/t'</c>, <c>t[i] = t'</c>. Otherwise the row restarts: the candidate and its product are overwritten with
    /// the current row and product, <c>t[i] = 1</c>, <c>momentum[i] = 0</c> (the next step is a plain proximal step, which cannot rise).
    /// </summary>
    /// <param name="candidate">The new candidate <c>Z</c> from <see cref="ShrinkageStep"/>.</param>
    /// <param name="candidateProduct"><c>Z G</c>.</param>
    /// <param name="current">The iterate <c>H</c>.</param>
    /// <param name="product"><c>H G</c>.</param>
    /// <param name="correlation"><c>B</c>.</param>
    /// <param name="lambda">The L1 weight λ.</param>
    /// <param name="objective">Each row's objective at <c>H</c>, [rows]; updated.</param>
    /// <param name="t">Each row's FISTA sequence value, [rows]; updated.</param>
    /// <param name="momentum">Each row's next extrapolation weight, [rows]; written.</param>
    void AcceptDescent(Tensor candidate, Tensor candidateProduct, Tensor current, Tensor product, Tensor correlation, float lambda,
        Tensor objective, Tensor t, Tensor momentum);

    /// <summary>
    /// <c>roots = sqrt(epsilon + pooled)</c> and <c>inverseRoots = 1 / roots</c>, elementwise: the square-root pooling of topographic ICA
    /// (Hyvärinen &amp; Hoyer 2001), whose objective sums the roots and whose gradient weighs each filter response by the inverse roots
    /// of the pools it belongs to. <paramref name="pooled"/> must not be negative below −epsilon.
    /// </summary>
    void PoolingRoots(Tensor pooled, float epsilon, Tensor roots, Tensor inverseRoots);

    /// <summary>
    /// The residual at the extrapolated point in the factored form of FISTA (for dictionaries with more than twice as many atoms as
    /// features, where <c>R = H D</c> is the smaller product): with <c>m = momentum[i]</c>, <c>residual = (R + m (R − R')) − X</c>.
    /// </summary>
    void ExtrapolatedResidual(Tensor reconstruction, Tensor previousReconstruction, Tensor data, Tensor momentum, Tensor residual);

    /// <summary>
    /// The proximal gradient step from the extrapolated point given its gradient, into <paramref name="previous"/>:
    /// <c>previous[i, j] = soft((h + m (h − h')) − step·gradient, threshold)</c>.
    /// </summary>
    void ProximalStep(Tensor current, Tensor previous, Tensor gradient, Tensor momentum, float step, float threshold);

    /// <summary>
    /// <see cref="AcceptDescent"/> for the factored form: the candidate's objective is the whole lasso objective
    /// <c>½‖r_z − x‖² + λ‖z‖₁</c> from its reconstruction <c>r_z = z D</c>; a restart copies the current codes and reconstruction.
    /// </summary>
    void AcceptReconstruction(Tensor candidate, Tensor candidateReconstruction, Tensor current, Tensor reconstruction, Tensor data, float lambda,
        Tensor objective, Tensor t, Tensor momentum);
}
