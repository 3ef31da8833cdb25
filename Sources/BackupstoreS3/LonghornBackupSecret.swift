import AWS
import Foundation

/// The Kubernetes Secret a Longhorn S3 backup target names in its credential-secret setting.
///
/// Keys read (the ones Longhorn passes to its backup driver): `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` (optional), `AWS_ENDPOINTS` (custom endpoint; path-style by
/// default), `AWS_CERT` (PEM CA bundle), `VIRTUAL_HOSTED_STYLE` (`"true"`/`"false"`), `AWS_IAM_ROLE_ARN`.
/// Values are trimmed, because Secrets made with `echo … | base64` carry a trailing newline.
/// `description` lists the keys present and never their values.
public struct LonghornBackupSecret: AWSCredentialProvider, Hashable, CustomStringConvertible {
    /// `namespace/name`, used in messages.
    public var name: String
    private var values: [String: String]

    /// - Parameters:
    ///   - name: `namespace/name` of the Secret, for messages.
    ///   - stringData: The Secret's data, already base64-decoded into text.
    public init(name: String, stringData: [String: String]) {
        self.name = name
        self.values = stringData.compactMapValues { value in
            let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
            return trimmed.isEmpty ? nil : trimmed
        }
    }

    /// The one way a Secret read from the API becomes this: its `data` map as the API sends it.
    /// - Parameters:
    ///   - name: `namespace/name` of the Secret, for messages.
    ///   - base64Data: The Secret's `data`, each value base64 as the API sends it.
    /// - Throws: `AWSError` `.invalidSecret` when a value is not base64 or not UTF-8 text (a
    ///   damaged Secret is an error, never a key silently left out).
    public init(name: String, base64Data: [String: String]) throws(AWSError) {
        var data: [String: Data] = [:]
        for (key, text) in base64Data {
            guard let bytes = Data(base64Encoded: text) else {
                throw AWSError(
                    code: .invalidSecret, subject: "Secret \(name)", detail: "key \(key) is not base64 data",
                    hint: "recreate the Secret with `kubectl create secret generic … --from-literal=\(key)=…`")
            }
            data[key] = bytes
        }
        try self.init(name: name, data: data)
    }

    /// - Parameters:
    ///   - name: `namespace/name` of the Secret, for messages.
    ///   - data: The Secret's `data`, base64-decoded into bytes.
    /// - Throws: `AWSError` `.invalidSecret` when a value is not UTF-8 text.
    public init(name: String, data: [String: Data]) throws(AWSError) {
        var text: [String: String] = [:]
        for (key, bytes) in data {
            guard let value = String(data: bytes, encoding: .utf8) else {
                throw AWSError(
                    code: .invalidSecret,
                    subject: "Secret \(name)",
                    detail: "key \(key) is not UTF-8 text",
                    hint: "recreate the Secret with `kubectl create secret generic … --from-literal=\(key)=…`"
                )
            }
            text[key] = value
        }
        self.init(name: name, stringData: text)
    }

    /// `AWS_ENDPOINTS`: the custom S3 endpoint (MinIO, Ceph, …), or `nil` for AWS itself.
    public var endpoint: String? { values["AWS_ENDPOINTS"] }
    /// `AWS_CERT`: a PEM CA bundle to trust for the custom endpoint.
    public var certificatePEM: String? { values["AWS_CERT"] }
    /// `VIRTUAL_HOSTED_STYLE` as written; see ``S3Addressing``.
    public var virtualHostedStyle: String? { values["VIRTUAL_HOSTED_STYLE"] }
    /// `AWS_IAM_ROLE_ARN`: Longhorn's alternative to static keys (kube2iam/kiam), not usable from here.
    public var iamRoleARN: String? { values["AWS_IAM_ROLE_ARN"] }

    /// The static credentials in the Secret.
    /// - Throws: `AWSError` `.incompleteCredentials` when one of the two keys is missing, or
    ///   `.noCredentials` when both are (the message says if the Secret relies on an IAM role instead).
    public func credentials() throws(AWSError) -> AWSCredentials {
        let accessKey = values["AWS_ACCESS_KEY_ID"]
        let secretKey = values["AWS_SECRET_ACCESS_KEY"]
        switch (accessKey, secretKey) {
        case (let accessKey?, let secretKey?):
            return AWSCredentials(
                accessKeyID: accessKey,
                secretAccessKey: secretKey,
                sessionToken: values["AWS_SESSION_TOKEN"],
                source: "Secret \(name)"
            )
        case (nil, nil):
            var detail = "has neither AWS_ACCESS_KEY_ID nor AWS_SECRET_ACCESS_KEY"
            if iamRoleARN != nil {
                detail += " (it uses AWS_IAM_ROLE_ARN, which only works inside the cluster)"
            }
            throw AWSError(
                code: .noCredentials,
                subject: "Secret \(name)",
                detail: detail,
                hint: "add AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to the Secret, or supply credentials through the environment"
            )
        default:
            let missing = accessKey == nil ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY"
            throw AWSError(
                code: .incompleteCredentials,
                subject: "Secret \(name)",
                detail: "has only one of the two keys: \(missing) is missing or empty",
                hint: "add \(missing) to the Secret"
            )
        }
    }

    public var description: String {
        "Secret \(name) (keys: \(values.keys.sorted().joined(separator: ", ")))"
    }
}

/// `dump`, `debugPrint` and string interpolation in tests show the key names, never the values.
extension LonghornBackupSecret: CustomDebugStringConvertible, CustomReflectable {
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["name": name, "keys": values.keys.sorted()], displayStyle: .struct) }
}

extension S3Addressing {
    /// Addressing for a Longhorn backup target Secret (`AWS_ENDPOINTS`, `VIRTUAL_HOSTED_STYLE`).
    public init(region: String, secret: LonghornBackupSecret) throws(AWSError) {
        try self.init(region: region, customEndpoint: secret.endpoint, virtualHostedStyle: secret.virtualHostedStyle)
    }
}
