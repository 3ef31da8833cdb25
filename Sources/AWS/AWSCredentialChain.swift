/// Finds AWS credentials and the region the way the AWS CLI does, from an injected environment.
///
/// Sources are tried in order; the first that yields a complete key pair wins. When none does, the
/// error lists every source with the reason it gave nothing, so the operator sees at once whether the
/// variable was unset, the file missing, or the profile named wrongly.
///
/// Precedence (the default `sources`): environment variables, then the shared credentials file, then
/// the shared config file. A profile named explicitly (the `profile` argument, like `--profile`) skips
/// the environment keys, as the AWS CLI does; `AWS_PROFILE` only picks the profile for the files.
/// A source of credentials the chain can try in its order.
public protocol AWSCredentialProvider: Sendable {
    /// - Throws: `AWSError` `.noCredentials` when it holds none (the chain then tries the next
    ///   source); any other error stops the chain.
    func credentials() throws(AWSError) -> AWSCredentials
}

public struct AWSCredentialChain: Sendable {
    /// One place credentials can come from.
    public enum Source: Sendable {
        /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`.
        case environment
        /// `~/.aws/credentials` then `~/.aws/config` (or `AWS_SHARED_CREDENTIALS_FILE`/`AWS_CONFIG_FILE`).
        case sharedFiles
        /// Credentials someone else knows how to read (a Longhorn backup-target Secret: this
        /// target knows nothing of Longhorn's format).
        case provider(any AWSCredentialProvider)
    }

    public var environment: AWSEnvironment
    /// A profile chosen explicitly; overrides `AWS_PROFILE`.
    public var explicitProfile: String?
    public var sources: [Source]

    public init(
        environment: AWSEnvironment,
        profile: String? = nil,
        sources: [Source] = [.environment, .sharedFiles]
    ) {
        self.environment = environment
        self.explicitProfile = profile
        self.sources = sources
    }

    /// The profile in use: the explicit one, else `AWS_PROFILE`, else `default`.
    public var profileName: String {
        explicitProfile ?? environment.value("AWS_PROFILE") ?? "default"
    }

    /// The path of the shared credentials file, or `nil` when it depends on an unset `$HOME`.
    public var credentialsFilePath: String? {
        environment.expandingHome(environment.value("AWS_SHARED_CREDENTIALS_FILE") ?? "~/.aws/credentials")
    }

    /// The path of the shared config file, or `nil` when it depends on an unset `$HOME`.
    public var configFilePath: String? {
        environment.expandingHome(environment.value("AWS_CONFIG_FILE") ?? "~/.aws/config")
    }

    // MARK: - Credentials

    /// Tries each source in order and returns the first complete credentials.
    /// - Throws: `AWSError` `.noCredentials` listing every source tried and why it gave nothing;
    ///   `.incompleteCredentials` at once when a source has only half a key pair (a typo the operator
    ///   must fix, not a reason to fall through to other keys); `.invalidSecret` for an unreadable file.
    public func resolveCredentials() throws(AWSError) -> AWSCredentials {
        var reasons: [String] = []
        for source in sources {
            switch source {
            case .environment:
                if let credentials = try fromEnvironment(&reasons) { return credentials }
            case .sharedFiles:
                if let credentials = try fromSharedFiles(&reasons) { return credentials }
            case .provider(let provider):
                do {
                    return try provider.credentials()
                } catch let error where error.code == .noCredentials {
                    reasons.append("\(error.subject ?? "provided credentials"): \(error.detail)")
                }
            }
        }
        let profile = profileName
        throw AWSError(
            code: .noCredentials,
            detail: "no AWS credentials found; tried, in order:\n"
                + reasons.map { "    - \($0)" }.joined(separator: "\n"),
            hint: "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add them to profile \"\(profile)\" "
                + "(`aws configure --profile \(profile)`), or read them from the Longhorn backup-target Secret"
        )
    }

    private func fromEnvironment(_ reasons: inout [String]) throws(AWSError) -> AWSCredentials? {
        if let explicitProfile {
            reasons.append("environment: skipped, profile \"\(explicitProfile)\" was chosen explicitly")
            return nil
        }
        let accessKey = environment.value("AWS_ACCESS_KEY_ID")
        let secretKey = environment.value("AWS_SECRET_ACCESS_KEY")
        switch (accessKey, secretKey) {
        case (let accessKey?, let secretKey?):
            return AWSCredentials(
                accessKeyID: accessKey,
                secretAccessKey: secretKey,
                sessionToken: environment.value("AWS_SESSION_TOKEN"),
                source: "environment"
            )
        case (nil, nil):
            reasons.append("environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
            return nil
        default:
            let (present, missing) =
                accessKey == nil
                ? ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID")
                : ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
            throw AWSError(
                code: .incompleteCredentials,
                subject: "environment",
                detail: "\(present) is set but \(missing) is not",
                hint: "export \(missing) too, or unset \(present)"
            )
        }
    }

    private func fromSharedFiles(_ reasons: inout [String]) throws(AWSError) -> AWSCredentials? {
        let profile = profileName
        let files: [(label: String, path: String?, lookup: (AWSSharedConfigFile) -> [String: String]?)] = [
            ("shared credentials file", credentialsFilePath, { $0.credentialsProfile(profile) }),
            ("shared config file", configFilePath, { $0.configProfile(profile) }),
        ]
        for file in files {
            guard let path = file.path else {
                reasons.append("\(file.label): $HOME is not set, so ~/.aws cannot be found")
                continue
            }
            let label = "\(file.label) \(path)"
            let parsed: AWSSharedConfigFile
            switch read(path) {
            case .missing:
                reasons.append("\(label): no such file")
                continue
            case .failed(let why):
                reasons.append("\(label): could not be read (\(why))")
                continue
            case .text(let text):
                parsed = AWSSharedConfigFile(parsing: text)
            }
            guard let values = file.lookup(parsed) else {
                reasons.append("\(label): no profile \"\(profile)\"")
                continue
            }
            let source = "profile \"\(profile)\" in \(path)"
            switch (values["aws_access_key_id"], values["aws_secret_access_key"]) {
            case (let accessKey?, let secretKey?):
                return AWSCredentials(
                    accessKeyID: accessKey,
                    secretAccessKey: secretKey,
                    sessionToken: values["aws_session_token"],
                    source: source
                )
            case (nil, nil):
                let unsupported = ["credential_process", "sso_session", "sso_start_url", "role_arn", "web_identity_token_file"]
                    .filter { values[$0] != nil }
                if unsupported.isEmpty {
                    reasons.append("\(label): profile \"\(profile)\" has no aws_access_key_id")
                } else {
                    reasons.append(
                        "\(label): profile \"\(profile)\" uses \(unsupported.joined(separator: ", ")), which longhorn-dr "
                            + "does not support; export static keys with `aws configure export-credentials --profile \(profile) --format env`"
                    )
                }
            default:
                let missing = values["aws_access_key_id"] == nil ? "aws_access_key_id" : "aws_secret_access_key"
                throw AWSError(
                    code: .incompleteCredentials,
                    subject: source,
                    detail: "the profile has only one of the two keys: \(missing) is missing",
                    hint: "add \(missing) to the profile, e.g. with `aws configure --profile \(profile)`"
                )
            }
        }
        return nil
    }

    // MARK: - Region

    /// The region: `AWS_REGION`, then `AWS_DEFAULT_REGION`, then `region` in the config file's profile.
    /// - Throws: `AWSError` `.noRegion` listing where it looked.
    public func resolveRegion() throws(AWSError) -> String {
        if let region = environment.value("AWS_REGION") { return region }
        if let region = environment.value("AWS_DEFAULT_REGION") { return region }
        var reasons = ["environment: AWS_REGION and AWS_DEFAULT_REGION are not set"]
        let profile = profileName
        if let path = configFilePath {
            switch read(path) {
            case .missing:
                reasons.append("shared config file \(path): no such file")
            case .failed(let why):
                reasons.append("shared config file \(path): could not be read (\(why))")
            case .text(let text):
                if let region = AWSSharedConfigFile(parsing: text).configProfile(profile)?["region"] {
                    return region
                }
                reasons.append("shared config file \(path): profile \"\(profile)\" has no region")
            }
        } else {
            reasons.append("shared config file: $HOME is not set, so ~/.aws cannot be found")
        }
        throw AWSError(
            code: .noRegion,
            detail: "no AWS region configured; tried, in order:\n" + reasons.map { "    - \($0)" }.joined(separator: "\n"),
            hint: "name the region in the backup target URL (s3://bucket@region/path/) or export AWS_REGION"
        )
    }

    // MARK: - Files

    private enum ReadResult {
        case text(String)
        case missing
        case failed(String)
    }

    private func read(_ path: String) -> ReadResult {
        do {
            guard let text = try environment.readFile(path) else { return .missing }
            return .text(text)
        } catch {
            return .failed("\(error)")
        }
    }
}

/// The credentials this workstation uses for its own requests, chosen one way for every
/// command: the aws CLI (`aws configure export-credentials`, for SSO, role_arn and
/// credential_process profiles) when asked for, else the chain: a provider first when there is
/// one (a Longhorn Secret), otherwise the environment and the shared files.
public enum WorkstationCredentials {
    public static func resolve(
        viaAWSCLI: Bool, profile: String?, provider: (any AWSCredentialProvider)? = nil,
        environment: AWSEnvironment = .process()
    ) async throws(AWSError) -> AWSCredentials {
        if viaAWSCLI { return try await AWSCLICredentialSource(profile: profile).resolve() }
        return try chain(profile: profile, provider: provider, environment: environment).resolveCredentials()
    }

    /// The chain `resolve` uses without the aws CLI (its region comes from the same place).
    public static func chain(profile: String?, provider: (any AWSCredentialProvider)? = nil, environment: AWSEnvironment = .process())
        -> AWSCredentialChain
    {
        AWSCredentialChain(environment: environment, profile: profile, sources: provider.map { [.provider($0)] } ?? [.environment, .sharedFiles])
    }
}
