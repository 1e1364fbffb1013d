"""The sObjects the emulator knows: fields, relationships, key prefixes and API visibility."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

__all__ = [
    "SCHEMA",
    "Field",
    "SObject",
    "extend_with_custom_fields",
    "find_object",
    "infer_field_type",
    "key_prefix",
    "make_id",
    "to_18",
]

FieldType = Literal[
    "id", "reference", "string", "textarea", "boolean", "int", "double", "currency",
    "percent", "date", "datetime", "picklist", "url", "email", "phone",
]
Target = str | tuple[str, ...]

DATA = frozenset({"data"})
TOOLING = frozenset({"tooling"})
BOTH = frozenset({"data", "tooling"})


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType


@dataclass(frozen=True)
class SObject:
    name: str
    key_prefix: str
    apis: frozenset[str]
    fields: dict[str, Field]
    parents: dict[str, tuple[str, Target]] = field(default_factory=dict)
    children: dict[str, tuple[str, str]] = field(default_factory=dict)
    lookup_keys: tuple[str, ...] = ("Id",)
    open_prefixes: tuple[str, ...] = ()
    _lower: dict[str, dict[str, str]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._lower["fields"] = {k.lower(): k for k in self.fields}
        self._lower["parents"] = {k.lower(): k for k in self.parents}
        self._lower["children"] = {k.lower(): k for k in self.children}

    def find_field(self, name: str) -> Field | None:
        key = self._lower["fields"].get(name.lower())
        return self.fields[key] if key is not None else None

    def find_parent(self, name: str) -> tuple[str, tuple[str, Target]] | None:
        key = self._lower["parents"].get(name.lower())
        return (key, self.parents[key]) if key is not None else None

    def find_child(self, name: str) -> tuple[str, tuple[str, str]] | None:
        key = self._lower["children"].get(name.lower())
        return (key, self.children[key]) if key is not None else None


_CHECKSUM_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def to_18(id15: str) -> str:
    """Append Salesforce's case-safe checksum to a 15-character id."""
    if len(id15) == 18:
        return id15
    if len(id15) != 15:
        raise ValueError(f"not a 15-character id: {id15!r}")
    suffix = ""
    for chunk in range(3):
        bits = 0
        for i, ch in enumerate(id15[chunk * 5:chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        suffix += _CHECKSUM_CHARS[bits]
    return id15 + suffix


def make_id(prefix: str, n_or_seed: int | str) -> str:
    """A deterministic, valid 18-character id with the given 3-character key prefix.

    An integer gives ``<prefix>000…<n>`` (the layout of the recorded fixtures); any other
    seed is hashed into the 12 characters after the prefix.
    """
    if len(prefix) != 3:
        raise ValueError(f"key prefix must be 3 characters: {prefix!r}")
    if isinstance(n_or_seed, int) and 0 <= n_or_seed < 10**12:
        body = str(n_or_seed).zfill(12)
    else:
        number = int.from_bytes(hashlib.sha256(str(n_or_seed).encode()).digest()[:16], "big")
        chars = []
        for _ in range(12):
            number, rem = divmod(number, 62)
            chars.append(_BASE62[rem])
        body = "".join(chars)
    return to_18(prefix + body)


def _fields(spec: Mapping[str, str]) -> dict[str, Field]:
    out: dict[str, Field] = {}
    for ftype, names in spec.items():
        for name in names.split():
            out[name] = Field(name, ftype)  # type: ignore[arg-type]
    return out


_AUDIT = {"datetime": "CreatedDate LastModifiedDate SystemModstamp", "boolean": "IsDeleted"}


def _sobject(
    name: str,
    prefix: str,
    apis: frozenset[str],
    *,
    audit: bool = True,
    owner: bool | tuple[str, ...] = False,
    parents: Mapping[str, tuple[str, Target]] | None = None,
    children: Mapping[str, tuple[str, str]] | None = None,
    lookup_keys: tuple[str, ...] = ("Id",),
    open_prefixes: tuple[str, ...] = (),
    **spec: str,
) -> SObject:
    fields = {"Id": Field("Id", "id")}
    rels: dict[str, tuple[str, Target]] = {}
    if audit:
        rels["CreatedBy"] = ("CreatedById", "User")
        rels["LastModifiedBy"] = ("LastModifiedById", "User")
    if owner:
        rels["Owner"] = ("OwnerId", owner if isinstance(owner, tuple) else "User")
    rels.update(parents or {})
    for lookup, _target in rels.values():
        fields[lookup] = Field(lookup, "reference")
    fields.update(_fields(spec))
    if audit:
        for ftype, names in _AUDIT.items():
            for fname in names.split():
                fields.setdefault(fname, Field(fname, ftype))  # type: ignore[arg-type]
    return SObject(name, prefix, apis, fields, rels, dict(children or {}), lookup_keys, open_prefixes)


_SYSTEM_PERMS = (
    "PermissionsModifyAllData PermissionsViewAllData PermissionsApiEnabled PermissionsAuthorApex "
    "PermissionsCustomizeApplication PermissionsManageUsers PermissionsViewSetup "
    "PermissionsViewAllUsers PermissionsManageInternalUsers PermissionsResetPasswords "
    "PermissionsManageProfilesPermissionsets PermissionsAssignPermissionSets "
    "PermissionsModifyMetadata PermissionsManageSharing PermissionsExportReport "
    "PermissionsRunReports PermissionsApiUserOnly PermissionsLightningExperienceUser "
    "PermissionsViewEventLogFiles PermissionsManageDataIntegrations PermissionsInstallPackaging "
    "PermissionsManageAuthProviders PermissionsViewRoles PermissionsEditPublicDocuments"
)

_OBJECTS: list[SObject] = [
    _sobject(
        "Organization", "00D", DATA,
        string="Name Division Street City State PostalCode Country PrimaryContact InstanceName "
               "NamespacePrefix DefaultLocaleSidKey LanguageLocaleKey TimeZoneSidKey",
        phone="Phone Fax",
        picklist="OrganizationType",
        boolean="IsSandbox IsReadOnly ReceivesInfoEmails",
        datetime="TrialExpirationDate",
    ),
    _sobject(
        "User", "005", DATA,
        parents={"Profile": ("ProfileId", "Profile"), "Manager": ("ManagerId", "User")},
        string="Username FirstName LastName Name Alias CommunityNickname Title Department "
               "CompanyName FederationIdentifier TimeZoneSidKey LocaleSidKey LanguageLocaleKey "
               "EmailEncodingKey UserRoleId",
        email="Email",
        boolean="IsActive",
        picklist="UserType",
        datetime="LastLoginDate",
    ),
    _sobject("Group", "00G", DATA, string="Name DeveloperName", picklist="Type", email="Email"),
    _sobject(
        "Profile", "00e", DATA,
        open_prefixes=("Permissions",),
        string="Name UserLicenseId",
        textarea="Description",
        picklist="UserType",
        boolean=_SYSTEM_PERMS,
    ),
    _sobject(
        "PermissionSet", "0PS", DATA,
        open_prefixes=("Permissions",),
        parents={"Profile": ("ProfileId", "Profile")},
        children={
            "ObjectPerms": ("ObjectPermissions", "ParentId"),
            "FieldPerms": ("FieldPermissions", "ParentId"),
            "Assignments": ("PermissionSetAssignment", "PermissionSetId"),
        },
        string="Name Label LicenseId NamespacePrefix PermissionSetGroupId",
        picklist="Type",
        textarea="Description",
        boolean="IsOwnedByProfile IsCustom HasActivationRequired " + _SYSTEM_PERMS,
    ),
    _sobject(
        "ObjectPermissions", "110", DATA,
        open_prefixes=("Permissions",),
        parents={"Parent": ("ParentId", "PermissionSet")},
        picklist="SobjectType",
        boolean="PermissionsRead PermissionsCreate PermissionsEdit PermissionsDelete "
                "PermissionsViewAllRecords PermissionsModifyAllRecords PermissionsViewAllFields",
    ),
    _sobject(
        "FieldPermissions", "01k", DATA,
        parents={"Parent": ("ParentId", "PermissionSet")},
        picklist="SobjectType Field",
        boolean="PermissionsRead PermissionsEdit",
    ),
    _sobject(
        "PermissionSetAssignment", "0Pa", DATA,
        parents={"Assignee": ("AssigneeId", "User"), "PermissionSet": ("PermissionSetId", "PermissionSet")},
        string="PermissionSetGroupId",
        boolean="IsActive",
        datetime="ExpirationDate",
    ),
    _sobject(
        "SetupAuditTrail", "0Ym", DATA,
        string="Action Section Display DelegateUser ResponsibleNamespacePrefix CreatedByContext",
    ),
    _sobject(
        "InstalledSubscriberPackage", "0A3", TOOLING,
        parents={
            "SubscriberPackage": ("SubscriberPackageId", "SubscriberPackage"),
            "SubscriberPackageVersion": ("SubscriberPackageVersionId", "SubscriberPackageVersion"),
        },
        string="MinPackageVersionId",
    ),
    _sobject(
        "SubscriberPackage", "033", TOOLING,
        string="Name NamespacePrefix",
        textarea="Description",
        boolean="IsPackageValid",
    ),
    _sobject(
        "SubscriberPackageVersion", "04t", TOOLING,
        parents={"SubscriberPackage": ("SubscriberPackageId", "SubscriberPackage")},
        string="Name Package2ContainerOptions ReleaseState AppExchangePackageName",
        textarea="Description",
        int="MajorVersion MinorVersion PatchVersion BuildNumber",
        boolean="IsBeta IsManaged IsDeprecated IsPasswordProtected IsSecurityReviewed",
    ),
    _sobject(
        "PackageInstallRequest", "0Hf", TOOLING,
        string="SubscriberPackageVersionKey PackageInstallSource ProfileMappings Password Errors",
        picklist="NameConflictResolution SecurityType UpgradeType ApexCompileType Status",
        boolean="EnableRss SkipHandlers",
    ),
    _sobject(
        "FlowDefinitionView", "300", DATA, audit=False,
        lookup_keys=("Id", "DurableId"),
        parents={"TriggerObjectOrEvent": ("TriggerObjectOrEventId", "EntityDefinition")},
        string="DurableId ApiName Label ActiveVersionId LatestVersionId LastModifiedBy "
               "NamespacePrefix InstalledPackageName Builder Environments RecordTriggerType",
        textarea="Description",
        picklist="ProcessType TriggerType ManageableState",
        boolean="IsActive IsOutOfDate IsTemplate IsOverridable IsSwingFlow",
        double="ApiVersion",
        int="TriggerOrder",
        datetime="LastModifiedDate",
    ),
    _sobject(
        "FlowVersionView", "301", DATA, audit=False,
        lookup_keys=("Id", "DurableId"),
        string="DurableId FlowDefinitionViewId Label RunInMode",
        textarea="Description",
        picklist="Status ProcessType",
        int="VersionNumber",
        double="ApiVersion",
        datetime="LastModifiedDate",
    ),
    _sobject(
        "FlowDefinition", "300", TOOLING,
        parents={"ActiveVersion": ("ActiveVersionId", "Flow"), "LatestVersion": ("LatestVersionId", "Flow")},
        string="DeveloperName MasterLabel NamespacePrefix FullName",
        textarea="Description",
        picklist="ManageableState",
    ),
    _sobject(
        "Flow", "301", TOOLING,
        parents={"Definition": ("DefinitionId", "FlowDefinition")},
        string="MasterLabel FullName RunInMode",
        textarea="Description",
        picklist="Status ProcessType ManageableState",
        int="VersionNumber",
        double="ApiVersion",
    ),
    _sobject(
        "ApexTrigger", "01q", BOTH,
        string="Name NamespacePrefix TableEnumOrId",
        textarea="Body",
        picklist="Status ManageableState",
        boolean="IsValid UsageBeforeInsert UsageAfterInsert UsageBeforeUpdate UsageAfterUpdate "
                "UsageBeforeDelete UsageAfterDelete UsageAfterUndelete UsageIsBulk",
        double="ApiVersion BodyCrc",
        int="LengthWithoutComments",
    ),
    _sobject(
        "ApexClass", "01p", BOTH,
        string="Name NamespacePrefix",
        textarea="Body",
        picklist="Status ManageableState",
        boolean="IsValid",
        double="ApiVersion BodyCrc",
        int="LengthWithoutComments",
    ),
    _sobject(
        "ApexCodeCoverageAggregate", "715", TOOLING,
        parents={"ApexClassOrTrigger": ("ApexClassOrTriggerId", ("ApexClass", "ApexTrigger"))},
        int="NumLinesCovered NumLinesUncovered",
    ),
    _sobject(
        "ValidationRule", "03d", TOOLING,
        parents={"EntityDefinition": ("EntityDefinitionId", "EntityDefinition")},
        string="ValidationName ErrorDisplayField ErrorMessage NamespacePrefix FullName",
        textarea="Description",
        boolean="Active",
        picklist="ManageableState",
    ),
    _sobject(
        "EntityDefinition", "000", BOTH, audit=False,
        lookup_keys=("Id", "DurableId", "QualifiedApiName"),
        string="QualifiedApiName DeveloperName Label MasterLabel PluralLabel DurableId KeyPrefix "
               "NamespacePrefix InternalSharingModel ExternalSharingModel",
        boolean="IsCustomizable IsQueryable IsTriggerable IsCustomSetting IsApexTriggerable",
        datetime="LastModifiedDate",
    ),
    _sobject(
        "NamedCredential", "0XA", BOTH,
        string="DeveloperName MasterLabel NamespacePrefix Language AuthProviderId",
        url="Endpoint AuthTokenEndpointUrl",
        textarea="Description",
        picklist="PrincipalType",
        boolean="CalloutOptionsGenerateAuthorizationHeader CalloutOptionsAllowMergeFieldsInHeader "
                "CalloutOptionsAllowMergeFieldsInBody",
    ),
    _sobject(
        "RemoteProxy", "0rp", TOOLING,
        string="SiteName NamespacePrefix FullName",
        url="EndpointUrl",
        textarea="Description",
        picklist="ManageableState",
        boolean="IsActive DisableProtocolSecurity ProtocolMismatch",
    ),
    _sobject(
        "CronTrigger", "08e", DATA, owner=True,
        parents={"CronJobDetail": ("CronJobDetailId", "CronJobDetail")},
        string="CronExpression TimeZoneSidKey",
        picklist="State",
        datetime="NextFireTime PreviousFireTime StartTime EndTime",
        int="TimesTriggered",
    ),
    _sobject("CronJobDetail", "08a", DATA, audit=False, string="Name", picklist="JobType"),
    _sobject(
        "AsyncApexJob", "707", DATA,
        parents={
            "ApexClass": ("ApexClassId", "ApexClass"),
            "CronTrigger": ("CronTriggerId", "CronTrigger"),
            "ParentJob": ("ParentJobId", "AsyncApexJob"),
        },
        string="MethodName ExtendedStatus LastProcessed",
        picklist="JobType Status",
        int="JobItemsProcessed TotalJobItems NumberOfErrors LastProcessedOffset",
        datetime="CompletedDate",
    ),
    _sobject(
        "EventBusSubscriber", "1dS", DATA, audit=False,
        string="ExternalId Name Topic LastError LastProcessed LastPublished",
        picklist="Type Status",
        int="Position Tip Retries",
        boolean="IsPartitioned",
    ),
    _sobject(
        "DeployRequest", "0Af", TOOLING,
        parents={"CanceledBy": ("CanceledById", "User")},
        string="ErrorStatusCode ErrorMessage StateDetail",
        picklist="Status",
        boolean="CheckOnly RunTestsEnabled IgnoreWarnings AllowMissingFiles",
        int="NumberComponentsDeployed NumberComponentsTotal NumberComponentErrors "
            "NumberTestsCompleted NumberTestsTotal NumberTestErrors",
        datetime="StartDate CompletedDate",
    ),
    _sobject(
        "Account", "001", DATA, owner=True,
        parents={"Parent": ("ParentId", "Account")},
        children={
            "Contacts": ("Contact", "AccountId"),
            "Cases": ("Case", "AccountId"),
            "Opportunities": ("Opportunity", "AccountId"),
            "ChildAccounts": ("Account", "ParentId"),
        },
        string="Name AccountNumber Site BillingStreet BillingCity BillingState BillingPostalCode "
               "BillingCountry ShippingStreet ShippingCity ShippingState ShippingPostalCode "
               "ShippingCountry TickerSymbol",
        picklist="Type Industry Rating AccountSource Ownership",
        currency="AnnualRevenue",
        int="NumberOfEmployees",
        phone="Phone Fax",
        url="Website",
        textarea="Description",
        date="LastActivityDate",
    ),
    _sobject(
        "Contact", "003", DATA, owner=True,
        parents={"Account": ("AccountId", "Account"), "ReportsTo": ("ReportsToId", "Contact")},
        children={"Cases": ("Case", "ContactId"), "Opportunities": ("Opportunity", "ContactId")},
        string="FirstName LastName Name Title Department AssistantName MailingStreet MailingCity "
               "MailingState MailingPostalCode MailingCountry",
        picklist="Salutation LeadSource",
        email="Email",
        phone="Phone MobilePhone HomePhone",
        boolean="HasOptedOutOfEmail DoNotCall",
        textarea="Description",
        date="Birthdate LastActivityDate",
    ),
    _sobject(
        "Lead", "00Q", DATA, owner=("User", "Group"),
        parents={
            "ConvertedAccount": ("ConvertedAccountId", "Account"),
            "ConvertedContact": ("ConvertedContactId", "Contact"),
            "ConvertedOpportunity": ("ConvertedOpportunityId", "Opportunity"),
        },
        string="FirstName LastName Name Company Title Street City State PostalCode Country",
        picklist="Salutation Status LeadSource Industry Rating",
        email="Email",
        phone="Phone MobilePhone",
        url="Website",
        currency="AnnualRevenue",
        int="NumberOfEmployees",
        boolean="IsConverted IsUnreadByOwner",
        textarea="Description",
        date="ConvertedDate LastActivityDate",
    ),
    _sobject(
        "Case", "500", DATA, owner=("User", "Group"),
        parents={
            "Account": ("AccountId", "Account"),
            "Contact": ("ContactId", "Contact"),
            "Parent": ("ParentId", "Case"),
        },
        children={"Cases": ("Case", "ParentId")},
        string="CaseNumber Subject SuppliedName SuppliedCompany",
        picklist="Status Priority Origin Type Reason",
        email="SuppliedEmail",
        phone="SuppliedPhone",
        textarea="Description",
        boolean="IsClosed IsEscalated",
        datetime="ClosedDate",
    ),
    _sobject(
        "Opportunity", "006", DATA, owner=True,
        parents={"Account": ("AccountId", "Account"), "Contact": ("ContactId", "Contact")},
        string="Name NextStep CampaignId",
        picklist="StageName Type LeadSource ForecastCategoryName",
        currency="Amount ExpectedRevenue",
        percent="Probability",
        boolean="IsClosed IsWon",
        textarea="Description",
        date="CloseDate LastActivityDate",
    ),
]

SCHEMA: dict[str, SObject] = {obj.name: obj for obj in _OBJECTS}
_LOWER_NAMES = {name.lower(): name for name in SCHEMA}


def find_object(schema: Mapping[str, SObject], name: str) -> SObject | None:
    """Look an object up by name, case-insensitively."""
    obj = schema.get(name)
    if obj is not None:
        return obj
    if schema is SCHEMA:
        canonical = _LOWER_NAMES.get(name.lower())
        return SCHEMA[canonical] if canonical else None
    lowered = name.lower()
    for key, value in schema.items():
        if key.lower() == lowered:
            return value
    return None


def key_prefix(obj: str) -> str:
    """The 3-character key prefix of an object (custom objects get a stable ``a0?``)."""
    found = find_object(SCHEMA, obj)
    if found is not None:
        return found.key_prefix
    digest = hashlib.sha256(obj.lower().encode()).digest()
    return "a0" + _BASE62[10 + digest[0] % 52]


def infer_field_type(values: Iterable[Any]) -> FieldType:
    """The field type suggested by the first non-null Python value."""
    for value in values:
        if value is None:
            continue
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, int):
            return "int"
        if isinstance(value, float):
            return "double"
        if isinstance(value, datetime):
            return "datetime"
        if isinstance(value, date):
            return "date"
        return "string"
    return "string"


def extend_with_custom_fields(
    schema: Mapping[str, SObject], tables: Mapping[str, Sequence[Mapping[str, Any]]]
) -> dict[str, SObject]:
    """A copy of ``schema`` where ``__c`` fields (and ``__c`` objects) present in records exist."""
    out = dict(schema)
    for table, records in tables.items():
        obj = find_object(out, table)
        if obj is None:
            if not table.lower().endswith("__c"):
                continue
            obj = _sobject(table, key_prefix(table), DATA, owner=True, string="Name")
        extra: dict[str, Field] = {}
        for record in records:
            for key in record:
                if key.lower().endswith("__c") and obj.find_field(key) is None and key not in extra:
                    extra[key] = Field(key, infer_field_type(r.get(key) for r in records))
        if extra or obj.name not in out:
            out[obj.name] = SObject(
                obj.name, obj.key_prefix, obj.apis, {**obj.fields, **extra},
                obj.parents, obj.children, obj.lookup_keys, obj.open_prefixes,
            )
    return out
