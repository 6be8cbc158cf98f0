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
        token_generation -> BigInt,
        cancel_window_ip -> Nullable<Text>,
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

diesel::table! {
    channels (id) {
        id -> BigInt,
        name -> Text,
        owner_id -> Nullable<BigInt>,
        is_lobby -> Bool,
        last_seq -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        uuid -> Text,
        intro -> Text,
        description -> Nullable<Text>,
    }
}

diesel::table! {
    channel_members (channel_id, user_id) {
        channel_id -> BigInt,
        user_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    chat_messages (id) {
        id -> Text,
        channel_id -> BigInt,
        seq -> BigInt,
        user_id -> Nullable<BigInt>,
        nickname -> Text,
        body -> Text,
        sender -> Text,
        client_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(channel_members -> channels (channel_id));
diesel::allow_tables_to_appear_in_same_query!(channels, channel_members, chat_messages, users);

diesel::table! {
    diaries (id) {
        id -> BigInt,
        user_id -> BigInt,
        emotion_status -> Double,
        image -> Nullable<Text>,
        content -> Text,
        is_public -> Bool,
        view_count -> BigInt,
        like_count -> BigInt,
        sentence -> Nullable<Text>,
        weather -> Text,
        temperature -> Nullable<Text>,
        humid -> Nullable<Text>,
        sleep -> Nullable<Text>,
        local_date -> Date,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    diary_likes (id) {
        id -> BigInt,
        diary_id -> BigInt,
        user_id -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    diary_views (diary_id, viewer_id) {
        diary_id -> BigInt,
        viewer_id -> BigInt,
        counted_at -> Timestamp,
    }
}

diesel::table! {
    comments (id) {
        id -> BigInt,
        diary_id -> BigInt,
        user_id -> BigInt,
        content -> Text,
        is_edited -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    secondary_comments (id) {
        id -> BigInt,
        diary_id -> BigInt,
        comment_id -> BigInt,
        user_id -> BigInt,
        content -> Text,
        is_edited -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    diary_advice (diary_id) {
        diary_id -> BigInt,
        advice -> Text,
        model -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    advice_usage (id) {
        id -> BigInt,
        user_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::joinable!(diaries -> users (user_id));
diesel::joinable!(comments -> users (user_id));
diesel::joinable!(secondary_comments -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    advice_usage,
    diary_advice,
    diaries,
    diary_likes,
    diary_views,
    comments,
    secondary_comments,
    users
);

diesel::table! {
    import_ids (kind, source_id) {
        kind -> Text,
        source_id -> Text,
        target_id -> BigInt,
        created_at -> Timestamp,
    }
}
