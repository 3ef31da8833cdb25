/// When and how long to wait before trying an idempotent request again.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration
    /// ±fraction of random spread on each delay, so many clients do not retry in step.
    public var jitter: Double

    public init(maxAttempts: Int = 5, baseDelay: Duration = .milliseconds(200), maxDelay: Duration = .seconds(5), jitter: Double = 0.2) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.jitter = jitter
    }

    public static let none = RetryPolicy(maxAttempts: 1)

    /// The wait before attempt `attempt + 1` (attempt counts from 1), honouring a server's Retry-After.
    public func delay(afterAttempt attempt: Int, retryAfterSeconds: Int? = nil) -> Duration {
        if let retryAfterSeconds { return min(.seconds(retryAfterSeconds), maxDelay) }
        var delay = baseDelay
        for _ in 1..<max(attempt, 1) { delay *= 2 }
        delay = min(delay, maxDelay)
        let spread = 1 + Double.random(in: -jitter...jitter)
        return delay * spread
    }

    /// HTTP answers worth another try: throttling and server-side trouble.
    static func isRetryable(status: Int) -> Bool {
        status == 429 || status == 500 || status == 502 || status == 503 || status == 504
    }
}
