/// An access key pair, optionally with a session token, and where it came from.
///
/// The secret access key and the session token never appear in `description`, `debugDescription` or
/// `dump` output, so credentials can be logged or put in an error without leaking. The access key id
/// is shown: AWS treats it as an identifier, and it is what an operator needs to tell which key failed.
public struct AWSCredentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    public var accessKeyID: String
    public var secretAccessKey: String
    /// Present for temporary credentials; sent as `X-Amz-Security-Token`.
    public var sessionToken: String?
    /// Where these came from, for messages: `environment`, `profile "prod" in /home/u/.aws/credentials`,
    /// `Secret longhorn-system/s3-secret`.
    public var source: String

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, source: String = "explicit") {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.source = source
    }

    public var description: String {
        let token = sessionToken == nil ? "" : ", session token <redacted>"
        return "AWS credentials \(accessKeyID) from \(source) (secret access key <redacted>\(token))"
    }

    public var debugDescription: String {
        "AWSCredentials(accessKeyID: \(accessKeyID), secretAccessKey: <redacted>, sessionToken: "
            + (sessionToken == nil ? "nil" : "<redacted>") + ", source: \(source))"
    }

    /// Why custom: the default mirror would show every stored property, secret included, to `dump()`.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "accessKeyID": accessKeyID,
                "secretAccessKey": "<redacted>",
                "sessionToken": sessionToken == nil ? "nil" : "<redacted>",
                "source": source,
            ],
            displayStyle: .struct
        )
    }
}
