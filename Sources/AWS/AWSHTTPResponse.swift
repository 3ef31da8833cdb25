import Foundation

/// A collected HTTP answer from an AWS endpoint.
public struct AWSHTTPResponse: Sendable {
    public var status: Int
    /// Header lines as received; names keep their case, look them up with ``header(_:)``.
    public var headers: [AWSHTTPRequest.Header]
    public var body: Data

    public init(status: Int, headers: [AWSHTTPRequest.Header], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public var isSuccess: Bool { (200..<300).contains(status) }

    /// The first value of header `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }

    /// `x-amz-request-id` (S3) or `x-amzn-RequestId` (JSON services): for debug logs only.
    public var requestID: String? {
        header("x-amz-request-id") ?? header("x-amzn-RequestId")
    }
}
