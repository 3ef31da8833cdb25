import Foundation

/// AWS Systems Manager Parameter Store over the JSON 1.1 protocol: GetParameter (decrypted).
public struct SSMClient: Sendable {
    public let http: AWSHTTPClient
    public let signer: SigV4Signer
    /// A custom endpoint (`http://127.0.0.1:5000` for a local test server), or `nil` for AWS.
    public let endpoint: URL?

    /// - Parameters:
    ///   - endpoint: A custom endpoint URL (`AWS_ENDPOINT_URL_SSM`), or `nil` for the region's AWS host.
    public init(http: AWSHTTPClient, region: String, credentials: AWSCredentials, endpoint: URL? = nil) {
        self.http = http
        self.signer = SigV4Signer(credentials: credentials, region: region, service: SSMRequest.service)
        self.endpoint = endpoint
    }

    /// Reads a parameter, decrypting a SecureString.
    /// - Throws: `AWSError` `ParameterNotFound`, `AccessDeniedException`, … from the service, or
    ///   `.endpointUnreachable`, `.malformedResponse`.
    public func getParameter(name: String, withDecryption: Bool = true) async throws(AWSError) -> SSMParameter {
        var request = try SSMRequest.getParameter(name: name, withDecryption: withDecryption, region: signer.region)
        if let endpoint {
            guard let host = endpoint.host(percentEncoded: false), let scheme = endpoint.scheme?.lowercased(),
                scheme == "http" || scheme == "https"
            else {
                throw AWSError(
                    code: .invalidEndpoint, subject: "SSM endpoint \(endpoint.absoluteString)",
                    detail: "is not an http(s) URL with a host", hint: "write it as https://host[:port]")
            }
            request.scheme = scheme
            request.host = host
            request.port = endpoint.port
            let path = endpoint.path(percentEncoded: true)
            request.path = path.isEmpty ? "/" : path
        }
        let subject = "SSM parameter \(name)"
        // GetParameter only reads, so it is safe to repeat.
        let call = AWSHTTPClient.Call(signer: signer, subject: subject, idempotent: true, maxBodyBytes: 4 << 20, timeout: .seconds(30))
        let response = try await http.send(request, call: call) { response in
            AWSError.jsonResponse(
                status: response.status, body: response.body, subject: subject,
                errorTypeHeader: response.header("x-amzn-ErrorType"), requestID: response.requestID)
        }
        guard response.isSuccess else {
            throw AWSError.jsonResponse(
                status: response.status, body: response.body, subject: subject,
                errorTypeHeader: response.header("x-amzn-ErrorType"), requestID: response.requestID)
        }
        return try SSMRequest.parseGetParameterResponse(response.body, name: name)
    }
}
