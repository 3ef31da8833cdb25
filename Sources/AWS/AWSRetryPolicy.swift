/// When and how long to wait before sending an idempotent AWS request again.
///
/// Why its own type (and not KubeClient's): the AWS module must not depend on the Kubernetes client,
/// and AWS adds throttling codes (`SlowDown`, `ThrottlingException`) that arrive with a 400 or 503.
public struct AWSRetryPolicy: Sendable {
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration
    /// ±fraction of random spread on each delay, so parallel block fetches do not retry in step.
    public var jitter: Double

    public init(maxAttempts: Int = 4, baseDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(5), jitter: Double = 0.2) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.jitter = jitter
    }

    /// One attempt, no retry: for tests that want the first failure.
    public static let none = AWSRetryPolicy(maxAttempts: 1)

    /// The wait before attempt `attempt + 1` (attempts count from 1): exponential, capped, jittered.
    public func delay(afterAttempt attempt: Int) -> Duration {
        var delay = baseDelay
        for _ in 1..<max(attempt, 1) { delay *= 2 }
        delay = min(delay, maxDelay)
        return delay * (1 + Double.random(in: -jitter...jitter))
    }

    /// Statuses worth another try: throttling and server-side trouble.
    public static func isRetryable(status: Int) -> Bool {
        status == 429 || status == 500 || status == 502 || status == 503 || status == 504
    }

    /// Error codes worth another try whatever their status.
    public static func isRetryable(code: AWSError.Code) -> Bool {
        code == .slowDown || code == .throttlingException || code == .internalError
            || code == .internalServerError || code == .requestTimeout
    }
}
