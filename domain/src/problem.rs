//! Every machine code the shop answers a refused request with: one list for the business rules here and for
//! the HTTP layers' own refusals (docs/adr/0018). On the wire a code is the problem type `/problems/<code>`;
//! clients branch on it, so a code, once published, never changes its spelling.

/// Declares [`ProblemCode`] with each variant's code, in one place.
macro_rules! problem_codes {
    ($( $(#[doc = $doc:literal])* $variant:ident = $code:literal, )*) => {
        /// A stable machine code of a refusal (`/problems/<code>` on the wire).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ProblemCode {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl ProblemCode {
            /// Every code, in the order declared.
            pub const ALL: &'static [ProblemCode] = &[$(ProblemCode::$variant,)*];

            /// The code as clients see it, e.g. `out_of_stock`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ProblemCode::$variant => $code,)*
                }
            }
        }
    };
}

problem_codes! {
    // Requests the HTTP layers refuse before any rule is asked.
    /// Fields that failed validation; `errors` names each.
    Validation = "validation",
    /// The request body is not JSON of the expected shape.
    InvalidBody = "invalid_body",
    /// The request body is not JSON at all.
    MalformedJson = "malformed_json",
    /// A query parameter is not valid.
    InvalidParameter = "invalid_parameter",
    /// `If-Match` is not a version number.
    InvalidIfMatch = "invalid_if_match",
    /// `Idempotency-Key` is not 1 to 255 visible characters.
    InvalidIdempotencyKey = "invalid_idempotency_key",
    /// The request could not be understood.
    BadRequest = "bad_request",
    /// The body is larger than the route accepts.
    PayloadTooLarge = "payload_too_large",
    /// The body is not `application/json`.
    UnsupportedMediaType = "unsupported_media_type",
    /// There is nothing at this path.
    NotFound = "not_found",
    /// No route of the API has this path.
    NoSuchRoute = "no_such_route",
    /// The route exists, but not for this method.
    MethodNotAllowed = "method_not_allowed",
    // Who is asking.
    /// No valid credentials came with the request.
    Unauthorized = "unauthorized",
    /// A write authenticated by the session cookie lacks `X-Requested-With`.
    CsrfHeaderMissing = "csrf_header_missing",
    /// The caller may not do this.
    Forbidden = "forbidden",
    /// Wrong email or password.
    InvalidCredentials = "invalid_credentials",
    /// Too many attempts; `Retry-After` says when to try again.
    RateLimited = "rate_limited",
    /// Every password check is in use; try again in a moment.
    Busy = "busy",
    // Repeated and concurrent writes.
    /// `If-Match` named another version than the current one.
    VersionMismatch = "version_mismatch",
    /// Someone else changed the same thing at the same moment.
    ConcurrentChange = "concurrent_change",
    /// A request with this `Idempotency-Key` is still running.
    IdempotencyKeyInFlight = "idempotency_key_in_flight",
    /// This `Idempotency-Key` was used for another request.
    IdempotencyKeyReused = "idempotency_key_reused",
    /// A retry took this request's `Idempotency-Key` over; this one changed nothing.
    IdempotencyKeyTakenOver = "idempotency_key_taken_over",
    // The checkout's own checks.
    /// The cart changed since the customer looked at it.
    CartChanged = "cart_changed",
    /// A cart line names a product the catalog does not have.
    UnknownProduct = "unknown_product",
    // Unique values.
    /// An account with this email exists.
    EmailTaken = "email_taken",
    /// A product with this SKU exists.
    SkuTaken = "sku_taken",
    // Values.
    InvalidCurrency = "invalid_currency",
    NegativeAmount = "negative_amount",
    CurrencyMismatch = "currency_mismatch",
    InvalidQuantity = "invalid_quantity",
    InvalidEmail = "invalid_email",
    InvalidSku = "invalid_sku",
    EmptyName = "empty_name",
    TooLong = "too_long",
    InvalidAddress = "invalid_address",
    InvalidPaymentMethod = "invalid_payment_method",
    Overflow = "overflow",
    // Users.
    AlreadyRegistered = "already_registered",
    UserNotFound = "user_not_found",
    NameTooLong = "name_too_long",
    // Products and stock.
    ProductNotFound = "product_not_found",
    AlreadyCreated = "already_created",
    InvalidName = "invalid_name",
    InvalidDescription = "invalid_description",
    InvalidCategory = "invalid_category",
    NothingToUpdate = "nothing_to_update",
    CurrencyChange = "currency_change",
    ZeroAdjustment = "zero_adjustment",
    BelowReserved = "below_reserved",
    StockLimitExceeded = "stock_limit_exceeded",
    AlreadyDiscontinued = "already_discontinued",
    Discontinued = "discontinued",
    OutOfStock = "out_of_stock",
    ReservationExists = "reservation_exists",
    ReservationReleased = "reservation_released",
    ReservationNotFound = "reservation_not_found",
    NotExpired = "not_expired",
    /// Not a JPEG, PNG or WebP image, by its content.
    NotAnImage = "not_an_image",
    /// More than 40 megapixels, or a side over 16,384 pixels.
    ImageTooLarge = "image_too_large",
    /// Alt text must be 1 to 250 characters.
    InvalidAlt = "invalid_alt",
    /// A product holds at most 20 images.
    TooManyImages = "too_many_images",
    /// The product has no image with this id.
    ImageNotFound = "image_not_found",
    /// A new order of images must name every image of the product exactly once.
    InvalidImageOrder = "invalid_image_order",
    // Carts.
    ProductDiscontinued = "product_discontinued",
    LineLimitExceeded = "line_limit_exceeded",
    LineNotFound = "line_not_found",
    EmptyCart = "empty_cart",
    TotalTooLarge = "total_too_large",
    // Orders.
    OrderNotFound = "order_not_found",
    AlreadyPlaced = "already_placed",
    NoLines = "no_lines",
    NotPending = "not_pending",
    NotCancellable = "not_cancellable",
    NotConfirmed = "not_confirmed",
    TrackingNumberTooLong = "tracking_number_too_long",
    NotShipped = "not_shipped",
    // The checkout saga and payments.
    CheckoutNotFound = "checkout_not_found",
    AlreadyStarted = "already_started",
    OutOfOrder = "out_of_order",
    PaymentNotFound = "payment_not_found",
    InvalidTransition = "invalid_transition",
    // Discount codes.
    /// The code applies to none of the products in the cart.
    DiscountNotApplicable = "discount_not_applicable",
    /// The products the code applies to come to less than its minimum.
    DiscountBelowMinimum = "discount_below_minimum",
    /// No promotion has this code.
    DiscountCodeUnknown = "discount_code_unknown",
    /// Not 3 to 32 of A-Z, 0-9, '-' and '_'.
    InvalidDiscountCode = "invalid_discount_code",
    /// A percentage outside 1 to 100, or an amount of zero.
    InvalidDiscount = "invalid_discount",
    /// `valid_until` is not after `valid_from`.
    InvalidValidity = "invalid_validity",
    DiscountCodePaused = "discount_code_paused",
    DiscountCodeEnded = "discount_code_ended",
    DiscountCodeNotYetValid = "discount_code_not_yet_valid",
    DiscountCodeExpired = "discount_code_expired",
    /// Every redemption the code allows is held or counted.
    DiscountCodeUsedUp = "discount_code_used_up",
    /// This customer has used the code as often as it allows.
    DiscountCodeUsedUpByCustomer = "discount_code_used_up_by_customer",
    /// Another promotion already has this code.
    DiscountCodeTaken = "discount_code_taken",
    // Notifications.
    NoRecipient = "no_recipient",
    // The shop's side.
    /// A dependency is down; `Retry-After` says when to try again.
    Unavailable = "unavailable",
    /// Something failed on the shop's side; it has been logged.
    Internal = "internal",
}

impl std::fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::ProblemCode;

    #[test]
    fn every_code_is_snake_case_and_its_own() {
        let mut seen = BTreeSet::new();
        for code in ProblemCode::ALL {
            let text = code.as_str();
            assert!(
                !text.is_empty()
                    && text.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    && !text.starts_with('_')
                    && !text.ends_with('_'),
                "{text}"
            );
            assert!(seen.insert(text), "{text} twice");
        }
    }
}
