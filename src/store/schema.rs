// One schema for every backend; each backend's DDL lives in migrations/<backend>/.

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        username -> Text,
        password_hash -> Text,
        profile_img -> Nullable<Text>,
        user_type -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deletion_due_at -> Nullable<Timestamp>,
        cancel_window_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        user_id -> BigInt,
        expires_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    signup_codes (email) {
        email -> Text,
        code -> Text,
        expires_at -> Timestamp,
        attempts -> Integer,
        created_at -> Timestamp,
    }
}

diesel::joinable!(refresh_tokens -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(users, refresh_tokens, signup_codes);
