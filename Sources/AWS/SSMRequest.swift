import Foundation

/// Requests to AWS Systems Manager Parameter Store, which holds the clusters' kubeconfigs.
///
/// SSM speaks the AWS JSON 1.1 protocol: every call is `POST /` with the operation in `X-Amz-Target`
/// and a JSON body. Sign the request with service `ssm`; decode errors with ``AWSError/jsonResponse(status:body:subject:errorTypeHeader:requestID:)``.
public enum SSMRequest {
    /// The SigV4 signing name.
    public static let service = "ssm"

    /// AWS's regional SSM host.
    public static func endpointHost(region: String) -> String {
        region.hasPrefix("cn-") ? "ssm.\(region).amazonaws.com.cn" : "ssm.\(region).amazonaws.com"
    }

    /// GetParameter for `name`.
    /// - Parameters:
    ///   - name: The parameter name or ARN, e.g. `/longhorn-dr/prod/kubeconfig`.
    ///   - withDecryption: Decrypt a SecureString (needs `kms:Decrypt`); true by default, since
    ///     kubeconfigs are stored encrypted.
    ///   - region: The region whose endpoint to call.
    /// - Throws: `AWSError` `.invalidRequest` for an empty name.
    public static func getParameter(name: String, withDecryption: Bool = true, region: String) throws(AWSError) -> AWSHTTPRequest {
        guard !name.trimmingWhitespace().isEmpty else {
            throw AWSError(
                code: .invalidRequest,
                subject: "SSM GetParameter",
                detail: "the parameter name is empty",
                hint: "pass the full parameter name, e.g. /longhorn-dr/<cluster>/kubeconfig"
            )
        }
        let body: Data
        do {
            let encoder = JSONEncoder()
            // Sorted keys give a stable body (and so a stable payload hash); unescaped slashes keep
            // parameter paths readable in debug logs.
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            body = try encoder.encode(GetParameterBody(name: name, withDecryption: withDecryption))
        } catch {
            throw AWSError(code: .invalidRequest, subject: "SSM parameter \(name)", detail: "could not encode the request", underlying: error)
        }
        return AWSHTTPRequest(
            method: "POST",
            host: endpointHost(region: region),
            path: "/",
            headers: [
                .init("Content-Type", "application/x-amz-json-1.1"),
                .init("X-Amz-Target", "AmazonSSM.GetParameter"),
            ],
            body: body
        )
    }

    /// Decodes a GetParameter answer (`{"Parameter": {"Name", "Type", "Value", "Version", …}}`).
    /// - Throws: `AWSError` `.malformedResponse` when the body lacks `Parameter.Value`, `Version` or `Type`.
    public static func parseGetParameterResponse(_ data: Data, name: String? = nil) throws(AWSError) -> SSMParameter {
        do {
            let decoded = try JSONDecoder().decode(GetParameterResponse.self, from: data)
            let parameter = decoded.parameter
            return SSMParameter(
                name: parameter.name ?? name ?? "",
                type: parameter.type,
                value: parameter.value,
                version: parameter.version,
                arn: parameter.arn,
                dataType: parameter.dataType
            )
        } catch {
            throw AWSError(
                code: .malformedResponse,
                subject: name.map { "SSM parameter \($0)" },
                detail: "the GetParameter answer lacks Parameter.Value, Version or Type (\(describe(error)))",
                underlying: error
            )
        }
    }

    // MARK: - Wire shapes

    private struct GetParameterBody: Encodable {
        var name: String
        var withDecryption: Bool

        enum CodingKeys: String, CodingKey {
            case name = "Name"
            case withDecryption = "WithDecryption"
        }
    }

    private struct GetParameterResponse: Decodable {
        var parameter: Parameter

        enum CodingKeys: String, CodingKey {
            case parameter = "Parameter"
        }

        struct Parameter: Decodable {
            var name: String?
            var type: String
            var value: String
            var version: Int
            var arn: String?
            var dataType: String?

            enum CodingKeys: String, CodingKey {
                case name = "Name"
                case type = "Type"
                case value = "Value"
                case version = "Version"
                case arn = "ARN"
                case dataType = "DataType"
            }
        }
    }

    /// A short reason from a `DecodingError`, without the full coding path dump.
    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _):
            "missing \(key.stringValue)"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.dataCorrupted:
            "not JSON"
        default:
            "\(error)"
        }
    }
}

/// A parameter read from Parameter Store. `description` never shows the value: these hold kubeconfigs.
public struct SSMParameter: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    public var name: String
    /// `String`, `StringList` or `SecureString`.
    public var type: String
    public var value: String
    public var version: Int
    public var arn: String?
    public var dataType: String?

    public init(name: String, type: String, value: String, version: Int, arn: String? = nil, dataType: String? = nil) {
        self.name = name
        self.type = type
        self.value = value
        self.version = version
        self.arn = arn
        self.dataType = dataType
    }

    public var description: String {
        "SSM parameter \(name) (\(type), version \(version), \(value.utf8.count) bytes)"
    }

    public var debugDescription: String { description }

    /// Why custom: the default mirror would print the value (a kubeconfig with credentials) in `dump()`.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: ["name": name, "type": type, "value": "<redacted>", "version": version],
            displayStyle: .struct
        )
    }
}
